//! The store's language (`--locale`): which words the wc-auth pages use.

/// The WordPress site language, as `get_locale()` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    /// Spanish (Chile), the builtin store's language.
    #[default]
    EsCl,
    /// English (United States), WordPress's default.
    EnUs,
}

impl Locale {
    /// `es_CL` / `en_US`.
    pub fn code(self) -> &'static str {
        match self {
            Locale::EsCl => "es_CL",
            Locale::EnUs => "en_US",
        }
    }

    /// The `lang` attribute `language_attributes()` prints: `es-CL` / `en-US`.
    pub(crate) fn html_lang(self) -> &'static str {
        match self {
            Locale::EsCl => "es-CL",
            Locale::EnUs => "en-US",
        }
    }
}

impl std::str::FromStr for Locale {
    type Err = String;

    fn from_str(s: &str) -> Result<Locale, String> {
        match s {
            "es_CL" => Ok(Locale::EsCl),
            "en_US" => Ok(Locale::EnUs),
            other => Err(format!(
                "unknown locale {other:?}: woo-sim speaks es_CL and en_US"
            )),
        }
    }
}

impl std::fmt::Display for Locale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a wc-auth request failed (`WC_Auth`'s exception messages), worded per locale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AuthMessage {
    MissingParameter(&'static str),
    InvalidScope(String),
    InvalidUrl(&'static str),
    CallbackNotSsl,
    NoPermission,
    InvalidNonce,
    CallbackFailed,
}

/// The words of the wc-auth pages in one language. The Spanish is woo-sim's own natural Chilean
/// Spanish (WooCommerce's es_CL catalogue was not at hand to copy its exact wording).
pub(crate) struct Words {
    pub title: &'static str,
    pub access_denied: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub login: &'static str,
    pub logout: &'static str,
    pub approve: &'static str,
    pub deny: &'static str,
    pub username_required: &'static str,
    pub wrong_password: &'static str,
    /// `{app}`.
    pub would_like: &'static str,
    /// `{app}` and `{link}` … `{/link}` around "cancel and return".
    pub login_intro: &'static str,
    /// `{app}`, `{scope}`.
    pub grant_intro: &'static str,
    /// `{name}`.
    pub logged_in_as: &'static str,
    /// `{message}`.
    pub error: &'static str,
    /// read, write, read_write.
    pub scopes: [&'static str; 3],
    pub read: [&'static str; 4],
    pub write: [&'static str; 5],
    pub read_write: [&'static str; 5],
}

const EN: Words = Words {
    title: "Application authentication request",
    access_denied: "Access denied",
    username: "Username or email address",
    password: "Password",
    login: "Login",
    logout: "Logout",
    approve: "Approve",
    deny: "Deny",
    username_required: "Error: Username is required.",
    wrong_password: "Error: The username or password you entered is incorrect.",
    would_like: "{app} would like to connect to your store",
    login_intro: "To connect to {app} you need to be logged in. Log in to your store below, or {link}cancel and return to {app}{/link}",
    grant_intro: "This will give \"{app}\" {scope} access which will allow it to:",
    logged_in_as: "Logged in as {name}",
    error: "Error: {message}.",
    scopes: ["Read", "Write", "Read/Write"],
    read: [
        "View coupons",
        "View customers",
        "View orders and sales reports",
        "View products",
    ],
    write: [
        "Create webhooks",
        "Create coupons",
        "Create customers",
        "Create orders",
        "Create products",
    ],
    read_write: [
        "Create webhooks",
        "View and manage coupons",
        "View and manage customers",
        "View and manage orders and sales reports",
        "View and manage products",
    ],
};

const ES: Words = Words {
    title: "Solicitud de autenticación de aplicación",
    access_denied: "Acceso denegado",
    username: "Nombre de usuario o correo electrónico",
    password: "Contraseña",
    login: "Acceder",
    logout: "Cerrar sesión",
    approve: "Aprobar",
    deny: "Rechazar",
    username_required: "Error: El nombre de usuario es obligatorio.",
    wrong_password: "Error: El nombre de usuario o la contraseña que ingresaste no son correctos.",
    would_like: "{app} quiere conectarse a tu tienda",
    login_intro: "Para conectarte a {app} tienes que iniciar sesión. Inicia sesión en tu tienda aquí abajo o {link}cancela y vuelve a {app}{/link}",
    grant_intro: "Esto le dará a \"{app}\" acceso de {scope}, que le permitirá:",
    logged_in_as: "Sesión iniciada como {name}",
    error: "Error: {message}.",
    scopes: ["lectura", "escritura", "lectura/escritura"],
    read: [
        "Ver cupones",
        "Ver clientes",
        "Ver pedidos e informes de ventas",
        "Ver productos",
    ],
    write: [
        "Crear webhooks",
        "Crear cupones",
        "Crear clientes",
        "Crear pedidos",
        "Crear productos",
    ],
    read_write: [
        "Crear webhooks",
        "Ver y gestionar cupones",
        "Ver y gestionar clientes",
        "Ver y gestionar pedidos e informes de ventas",
        "Ver y gestionar productos",
    ],
};

impl Locale {
    pub(crate) fn words(self) -> &'static Words {
        match self {
            Locale::EsCl => &ES,
            Locale::EnUs => &EN,
        }
    }

    pub(crate) fn message(self, m: &AuthMessage) -> String {
        let es = self == Locale::EsCl;
        match m {
            AuthMessage::MissingParameter(p) if es => format!("Falta el parámetro {p}"),
            AuthMessage::MissingParameter(p) => format!("Missing parameter {p}"),
            AuthMessage::InvalidScope(s) if es => format!("El alcance {s} no es válido"),
            AuthMessage::InvalidScope(s) => format!("Invalid scope {s}"),
            AuthMessage::InvalidUrl(p) if es => format!("La {p} no es una URL válida"),
            AuthMessage::InvalidUrl(p) => format!("The {p} is not a valid URL"),
            AuthMessage::CallbackNotSsl if es => "La callback_url tiene que usar SSL".into(),
            AuthMessage::CallbackNotSsl => "The callback_url needs to be over SSL".into(),
            AuthMessage::NoPermission if es => "No tienes permiso para acceder a esta página".into(),
            AuthMessage::NoPermission => "You do not have permission to access this page".into(),
            AuthMessage::InvalidNonce if es => "La verificación del nonce no es válida".into(),
            AuthMessage::InvalidNonce => "Invalid nonce verification".into(),
            AuthMessage::CallbackFailed if es => "Ocurrió un error en la solicitud y no fue posible enviar los datos del consumidor".into(),
            AuthMessage::CallbackFailed => "An error occurred in the request and at the time were unable to send the consumer data".into(),
        }
    }
}
