//! Spanish and English: the language from `?lang=`, the `ttwc_lang` cookie or Accept-Language,
//! every text of the pages, and a merchant-readable message for each wizard failure.

use crate::connection::{CodeProblem, StepError};
use crate::store::OrderState;
use woocommerce::CertProblem;

pub use crate::text::Lang;

impl Lang {
    /// The pages' fixed texts in this language.
    pub fn t(self) -> &'static Texts {
        match self {
            Lang::Es => &ES,
            Lang::En => &EN,
        }
    }
}

/// Every fixed text of the pages.
pub struct Texts {
    pub title: &'static str,
    pub switch_to: &'static str,
    pub tagline: &'static str,
    pub connect_store: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub dashboard: &'static str,
    pub signed_in_as: &'static str,
    pub disclosure_title: &'static str,
    pub disclosure: &'static [&'static str],
    pub terms: &'static str,
    pub privacy: &'static str,
    pub step1: &'static str,
    pub store_url: &'static str,
    pub store_url_hint: &'static str,
    pub courier_code: &'static str,
    pub courier_code_hint: &'static str,
    pub continue_: &'static str,
    pub step2: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub password_hint: &'static str,
    pub step3: &'static str,
    pub choose_store: &'static str,
    pub step4: &'static str,
    pub keys_intro: &'static str,
    pub authorize: &'static str,
    pub or_paste: &'static str,
    pub consumer_key: &'static str,
    pub consumer_secret: &'static str,
    pub connect: &'static str,
    pub keys_received: &'static str,
    pub finish: &'static str,
    pub wcauth_denied: &'static str,
    pub connected_title: &'static str,
    pub connected_body: &'static str,
    pub go_dashboard: &'static str,
    pub start_over: &'static str,
    pub working: &'static str,
    pub courier: &'static str,
    pub no_connections: &'static str,
    pub state_connected: &'static str,
    pub state_needs_relogin: &'static str,
    pub state_disconnected: &'static str,
    pub tt_store: &'static str,
    pub connected_since: &'static str,
    pub last_order_sent: &'static str,
    pub never: &'static str,
    pub queue_depth: &'static str,
    pub last_error: &'static str,
    pub webhook: &'static str,
    pub recent_activity: &'static str,
    pub settings: &'static str,
    pub trigger_status: &'static str,
    pub trigger_status_hint: &'static str,
    pub trigger_status_choose: &'static str,
    pub mark_completed: &'static str,
    pub notify_customer: &'static str,
    pub save: &'static str,
    pub saved: &'static str,
    pub disconnect: &'static str,
    pub disconnect_confirm: &'static str,
    pub disconnected_ok: &'static str,
    pub reconnect: &'static str,
    pub revoke_key: &'static str,
    pub sign_in_intro: &'static str,
    pub session_expired: &'static str,
    pub network_error: &'static str,
    pub orders: &'static str,
    pub in_queue: &'static str,
    pub orders_of: &'static str,
    pub back_to_dashboard: &'static str,
    pub all_states: &'static str,
    pub col_order: &'static str,
    pub col_state: &'static str,
    pub col_attempts: &'static str,
    pub col_tracking: &'static str,
    pub col_tt_status: &'static str,
    pub col_error: &'static str,
    pub col_queued_at: &'static str,
    pub col_sent_at: &'static str,
    pub no_orders: &'static str,
    pub showing: &'static str,
    pub of_total: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub page: &'static str,
    pub resend: &'static str,
    pub resend_all: &'static str,
    pub resend_all_confirm: &'static str,
    pub resent: &'static str,
    pub last_error_at: &'static str,
    pub backfill: &'static str,
    pub backfill_hint: &'static str,
    pub backfill_since: &'static str,
    pub backfill_start: &'static str,
    pub backfill_running: &'static str,
    pub backfill_done: &'static str,
    pub backfill_failed: &'static str,
    pub not_found: &'static str,
    pub connection_not_found: &'static str,
    /// Order state labels, in the order of [`OrderState::ALL`].
    pub order_states: [&'static str; 7],
}

pub static ES: Texts = Texts {
    title: "TrackingTech para WooCommerce",
    switch_to: "English",
    tagline: "Cada pedido pagado de tu tienda WooCommerce llega a tu courier en TrackingTech, y su estado vuelve a tu tienda.",
    connect_store: "Conectar una tienda",
    sign_in: "Ingresar",
    sign_out: "Cerrar sesión",
    dashboard: "Mis tiendas",
    signed_in_as: "Sesión de",
    disclosure_title: "Qué se envía a TrackingTech y cuándo",
    disclosure: &[
        "ttwc se conecta a la API de TrackingTech para validar el código de tu courier, autenticar tu cuenta de TrackingTech, listar tus tiendas, vincular tu tienda WooCommerce, enviar los datos de los pedidos para su despacho, consultar el estado de los envíos y desinstalar la integración.",
        "No se envía ningún dato a TrackingTech hasta que envíes el primer paso de este asistente.",
        "Durante la conexión se envían: el código de courier que ingreses, un identificador de la instalación (un hash SHA-256 derivado de la URL de tu tienda y de un valor secreto de esta instalación de ttwc: identifica la tienda, no a una persona), el texto fijo \"woocommerce\", el email y la contraseña de tu cuenta de TrackingTech (la contraseña se usa solo para iniciar sesión y nunca se guarda), la tienda de TrackingTech que elijas y la URL de tu tienda.",
        "Una vez conectada la tienda, cada pedido que llegue al estado configurado (por defecto: Procesando) se envía automáticamente a TrackingTech con: el número del pedido, el identificador de cliente de la vinculación, los productos (nombre, SKU, cantidad, precio y peso si lo tiene) y la dirección de envío (nombre, dirección, comuna, región, código postal, país, email y teléfono de facturación).",
        "Al desconectar se envían la URL de la tienda y el identificador de cliente.",
        "ttwc se conecta a tu tienda solo con las claves de la API REST que autorices, y crea en ella un webhook para enterarse de los pedidos.",
    ],
    terms: "Términos del servicio de TrackingTech",
    privacy: "Política de privacidad de TrackingTech",
    step1: "1. Tu tienda y tu courier",
    store_url: "URL de tu tienda",
    store_url_hint: "La dirección de tu tienda WooCommerce, por ejemplo https://mitienda.cl",
    courier_code: "Código de courier",
    courier_code_hint: "El código que te dio tu courier",
    continue_: "Continuar",
    step2: "2. Tu cuenta de TrackingTech",
    email: "Email",
    password: "Contraseña",
    password_hint: "Se usa solo para iniciar sesión en TrackingTech; ttwc no la guarda.",
    step3: "3. Tienda de TrackingTech",
    choose_store: "¿Desde qué tienda de TrackingTech salen estos pedidos?",
    step4: "4. Acceso a WooCommerce",
    keys_intro: "Autoriza a ttwc en tu tienda: WooCommerce te pedirá iniciar sesión y aprobar el acceso (lectura y escritura), y entregará las claves a ttwc.",
    authorize: "Autorizar en WooCommerce",
    or_paste: "O pega claves de la API REST creadas en WooCommerce > Ajustes > Avanzado > API REST (permisos: lectura/escritura).",
    consumer_key: "Clave de cliente (ck_…)",
    consumer_secret: "Clave secreta de cliente (cs_…)",
    connect: "Conectar",
    keys_received: "WooCommerce entregó las claves. Terminando la conexión…",
    finish: "Terminar la conexión",
    wcauth_denied: "El acceso fue rechazado en WooCommerce. Puedes intentarlo de nuevo o pegar claves.",
    connected_title: "¡Tienda conectada!",
    connected_body: "Desde ahora, cada pedido que llegue al estado configurado se enviará a TrackingTech.",
    go_dashboard: "Ir a mis tiendas",
    start_over: "Empezar de nuevo",
    working: "Trabajando…",
    courier: "Courier",
    no_connections: "Aún no tienes tiendas conectadas.",
    state_connected: "Conectada",
    state_needs_relogin: "Requiere volver a ingresar",
    state_disconnected: "Desconectada",
    tt_store: "Tienda TrackingTech",
    connected_since: "Conectada desde",
    last_order_sent: "Último pedido enviado",
    never: "nunca",
    queue_depth: "Pedidos en cola",
    last_error: "Último error",
    webhook: "Webhook",
    recent_activity: "Actividad reciente",
    settings: "Ajustes",
    trigger_status: "Estado que envía el pedido",
    trigger_status_hint: "Los estados de pedido de la tienda, también los personalizados. Por defecto: Procesando (processing).",
    trigger_status_choose: "— Elige un estado de la tienda —",
    mark_completed: "Marcar el pedido como Completado cuando se entrega",
    notify_customer: "Avisar al cliente con el número de seguimiento",
    save: "Guardar",
    saved: "Guardado.",
    disconnect: "Desconectar",
    disconnect_confirm: "¿Desconectar esta tienda? Se desinstalará en TrackingTech, se borrará el webhook de ttwc en la tienda y ttwc olvidará sus claves. La clave de la API REST seguirá en la tienda hasta que la revoques en WooCommerce › Ajustes › Avanzado › API REST (la API de WooCommerce no permite borrarla); al desconectar te diremos cuál es. El historial se conserva.",
    disconnected_ok: "Tienda desconectada.",
    reconnect: "Volver a conectar",
    revoke_key: "Revocar la clave en WooCommerce › Ajustes › Avanzado › API REST",
    sign_in_intro: "Ingresa con el código de tu courier y tu cuenta de TrackingTech para ver tus tiendas.",
    session_expired: "Tu sesión expiró. Recarga la página.",
    network_error: "No se pudo contactar a ttwc. Revisa tu conexión e inténtalo de nuevo.",
    orders: "Pedidos",
    in_queue: "en cola",
    orders_of: "Pedidos de",
    back_to_dashboard: "← Mis tiendas",
    all_states: "Todos",
    col_order: "Pedido",
    col_state: "Estado",
    col_attempts: "Intentos",
    col_tracking: "Seguimiento",
    col_tt_status: "Estado en TrackingTech",
    col_error: "Último error",
    col_queued_at: "En cola desde",
    col_sent_at: "Enviado",
    no_orders: "No hay pedidos que mostrar.",
    showing: "Mostrando",
    of_total: "de",
    previous: "‹ Anterior",
    next: "Siguiente ›",
    page: "Página",
    resend: "Reenviar",
    resend_all: "Reenviar todos los fallidos y rechazados",
    resend_all_confirm: "¿Volver a poner en cola todos los pedidos fallidos y rechazados de esta tienda? Se armarán de nuevo con los datos actuales de la tienda.",
    resent: "Pedidos puestos en cola de nuevo:",
    last_error_at: "el",
    backfill: "Cargar pedidos anteriores",
    backfill_hint: "Pone en cola los pedidos en el estado configurado creados desde esa fecha (UTC) que ttwc aún no tiene; los que ya conoce no se repiten.",
    backfill_since: "Desde",
    backfill_start: "Cargar",
    backfill_running: "Revisando pedidos de la tienda…",
    backfill_done: "Carga terminada.",
    backfill_failed: "La carga falló:",
    not_found: "No encontrado",
    connection_not_found: "Esa conexión no existe o no es tuya.",
    order_states: [
        "En cola",
        "Enviando",
        "Enviado",
        "Falló",
        "Rechazado",
        "Omitido",
        "Cancelado",
    ],
};

pub static EN: Texts = Texts {
    title: "TrackingTech for WooCommerce",
    switch_to: "Español",
    tagline: "Every paid order of your WooCommerce store reaches your courier on TrackingTech, and its status comes back to your store.",
    connect_store: "Connect a store",
    sign_in: "Sign in",
    sign_out: "Sign out",
    dashboard: "My stores",
    signed_in_as: "Signed in as",
    disclosure_title: "What is sent to TrackingTech, and when",
    disclosure: &[
        "ttwc connects to the TrackingTech API to validate your courier code, authenticate your TrackingTech account, list your stores, link your WooCommerce store, send order data for fulfilment, retrieve shipment status and uninstall the integration.",
        "No data is sent to TrackingTech until you submit the first step of this wizard.",
        "During the connection it sends: the courier code you enter, an installation identifier (a SHA-256 hash derived from your store URL and a secret value of this ttwc installation: it identifies the store, not a person), the fixed string \"woocommerce\", your TrackingTech email and password (the password is used only to sign in and is never stored), the TrackingTech store you select and your store URL.",
        "Once the store is connected, every order that reaches the configured status (default: Processing) is sent automatically to TrackingTech with: the order number, the linked customer identifier, the products (name, SKU, quantity, price, and weight if available) and the shipping address (name, address lines, city, state, postcode, country, billing email and billing phone).",
        "When you disconnect, the store URL and the customer identifier are sent.",
        "ttwc reaches your store only with the REST API keys you authorize, and creates a webhook there to hear about orders.",
    ],
    terms: "TrackingTech Terms of Service",
    privacy: "TrackingTech Privacy Policy",
    step1: "1. Your store and your courier",
    store_url: "Store URL",
    store_url_hint: "Your WooCommerce store's address, e.g. https://mystore.cl",
    courier_code: "Courier code",
    courier_code_hint: "The code your courier gave you",
    continue_: "Continue",
    step2: "2. Your TrackingTech account",
    email: "Email",
    password: "Password",
    password_hint: "Used only to sign in to TrackingTech; ttwc does not keep it.",
    step3: "3. TrackingTech store",
    choose_store: "Which TrackingTech store do these orders ship from?",
    step4: "4. WooCommerce access",
    keys_intro: "Authorize ttwc in your store: WooCommerce will ask you to sign in and approve access (read and write), then hand the keys to ttwc.",
    authorize: "Authorize in WooCommerce",
    or_paste: "Or paste REST API keys created in WooCommerce > Settings > Advanced > REST API (permissions: read/write).",
    consumer_key: "Consumer key (ck_…)",
    consumer_secret: "Consumer secret (cs_…)",
    connect: "Connect",
    keys_received: "WooCommerce handed over the keys. Finishing the connection…",
    finish: "Finish the connection",
    wcauth_denied: "Access was denied in WooCommerce. You can try again or paste keys.",
    connected_title: "Store connected!",
    connected_body: "From now on, every order that reaches the configured status is sent to TrackingTech.",
    go_dashboard: "Go to my stores",
    start_over: "Start over",
    working: "Working…",
    courier: "Courier",
    no_connections: "You have no connected stores yet.",
    state_connected: "Connected",
    state_needs_relogin: "Needs re-login",
    state_disconnected: "Disconnected",
    tt_store: "TrackingTech store",
    connected_since: "Connected since",
    last_order_sent: "Last order sent",
    never: "never",
    queue_depth: "Orders queued",
    last_error: "Last error",
    webhook: "Webhook",
    recent_activity: "Recent activity",
    settings: "Settings",
    trigger_status: "Status that sends the order",
    trigger_status_hint: "The store's order statuses, custom ones included. Default: Processing (processing).",
    trigger_status_choose: "— Choose one of the store's statuses —",
    mark_completed: "Mark the order Completed when delivered",
    notify_customer: "Notify the customer with the tracking number",
    save: "Save",
    saved: "Saved.",
    disconnect: "Disconnect",
    disconnect_confirm: "Disconnect this store? It will be uninstalled at TrackingTech, ttwc's webhook will be deleted from the store and ttwc will forget its keys. The REST API key stays in the store until you revoke it in WooCommerce › Settings › Advanced › REST API (WooCommerce's API cannot delete it); once disconnected we tell you which one it is. The history is kept.",
    disconnected_ok: "Store disconnected.",
    reconnect: "Reconnect",
    revoke_key: "Revoke the key in WooCommerce › Settings › Advanced › REST API",
    sign_in_intro: "Sign in with your courier code and your TrackingTech account to see your stores.",
    session_expired: "Your session expired. Reload the page.",
    network_error: "Could not reach ttwc. Check your connection and try again.",
    orders: "Orders",
    in_queue: "queued",
    orders_of: "Orders of",
    back_to_dashboard: "← My stores",
    all_states: "All",
    col_order: "Order",
    col_state: "State",
    col_attempts: "Attempts",
    col_tracking: "Tracking",
    col_tt_status: "TrackingTech status",
    col_error: "Last error",
    col_queued_at: "Queued at",
    col_sent_at: "Sent at",
    no_orders: "No orders to show.",
    showing: "Showing",
    of_total: "of",
    previous: "‹ Previous",
    next: "Next ›",
    page: "Page",
    resend: "Resend",
    resend_all: "Resend all failed and rejected",
    resend_all_confirm: "Queue every failed and rejected order of this store again? They are built afresh from the store's current data.",
    resent: "Orders queued again:",
    last_error_at: "at",
    backfill: "Load earlier orders",
    backfill_hint: "Queues the orders at the configured status created since that date (UTC) that ttwc does not have yet; those it knows are not repeated.",
    backfill_since: "Since",
    backfill_start: "Load",
    backfill_running: "Reading the store's orders…",
    backfill_done: "Backfill finished.",
    backfill_failed: "The backfill failed:",
    not_found: "Not found",
    connection_not_found: "That connection does not exist or is not yours.",
    order_states: [
        "Queued",
        "Sending",
        "Sent",
        "Failed",
        "Rejected",
        "Skipped",
        "Cancelled",
    ],
};

impl Texts {
    /// The label of an order state.
    pub fn order_state(&self, state: OrderState) -> &'static str {
        let i = OrderState::ALL
            .iter()
            .position(|s| *s == state)
            .unwrap_or_default();
        self.order_states[i]
    }
}

/// The answers of the dashboard's actions that a merchant reads.
pub mod actions {
    use super::Lang;

    pub fn order_not_found(lang: Lang, order_id: i64) -> String {
        match lang {
            Lang::Es => format!("Esta tienda no tiene un pedido {order_id} en ttwc."),
            Lang::En => format!("This store has no order {order_id} in ttwc."),
        }
    }

    pub fn not_resendable(lang: Lang, number: &str, state: &str) -> String {
        match lang {
            Lang::Es => format!(
                "El pedido #{number} está {state}: solo se reenvían pedidos fallidos, rechazados, omitidos o cancelados."
            ),
            Lang::En => format!(
                "Order #{number} is {state}: only failed, rejected, skipped or cancelled orders can be resent."
            ),
        }
    }

    pub fn resend_body(lang: Lang) -> &'static str {
        match lang {
            Lang::Es => "Indica el pedido a reenviar (order_id) o todos (all: true), no ambos.",
            Lang::En => "Name the order to resend (order_id) or all of them (all: true), not both.",
        }
    }

    pub fn disconnected(lang: Lang) -> &'static str {
        match lang {
            Lang::Es => "La tienda está desconectada: vuelve a conectarla primero.",
            Lang::En => "The store is disconnected: reconnect it first.",
        }
    }

    pub fn needs_connected(lang: Lang) -> &'static str {
        match lang {
            Lang::Es => {
                "La tienda no está conectada: vuelve a conectarla antes de cargar pedidos anteriores."
            }
            Lang::En => "The store is not connected: reconnect it before loading earlier orders.",
        }
    }

    pub fn bad_date(lang: Lang, value: &str) -> String {
        let value: String = value.chars().take(40).collect();
        match lang {
            Lang::Es => format!(
                "\"{value}\" no es una fecha válida: usa AAAA-MM-DD, por ejemplo 2024-05-01."
            ),
            Lang::En => {
                format!("\"{value}\" is not a valid date: use YYYY-MM-DD, e.g. 2024-05-01.")
            }
        }
    }

    pub fn future_date(lang: Lang, value: &str) -> String {
        match lang {
            Lang::Es => format!("{value} es una fecha futura: elige hoy o un día anterior."),
            Lang::En => format!("{value} is in the future: choose today or an earlier day."),
        }
    }

    pub fn backfill_running(lang: Lang) -> &'static str {
        match lang {
            Lang::Es => "Ya hay una carga de pedidos anteriores en curso para esta tienda.",
            Lang::En => "A backfill is already running for this store.",
        }
    }

    pub fn no_backfill(lang: Lang) -> &'static str {
        match lang {
            Lang::Es => "No se ha cargado ningún pedido anterior para esta tienda.",
            Lang::En => "No backfill has been started for this store.",
        }
    }

    pub fn connection_not_found(lang: Lang) -> &'static str {
        match lang {
            Lang::Es => "Conexión no encontrada.",
            Lang::En => "Connection not found.",
        }
    }
}

/// A wizard failure in the merchant's language.
pub fn step_error(lang: Lang, e: &StepError) -> String {
    let es = lang == Lang::Es;
    match e {
        StepError::InvalidStoreUrl(_) => {
            if es {
                "La URL de la tienda no es válida: escríbela completa, con https://, por ejemplo https://mitienda.cl".into()
            } else {
                "The store URL is not valid: write it in full, with https://, e.g. https://mystore.cl".into()
            }
        }
        StepError::StoreUnreachable => {
            if es {
                "No pudimos contactar tu tienda en esa URL. Revisa que esté bien escrita y que la tienda esté en línea.".into()
            } else {
                "We could not reach your store at that URL. Check it is spelled right and the store is online.".into()
            }
        }
        StepError::StoreNotPublic => {
            if es {
                "Esa dirección no es la de una tienda pública en internet. Escribe la dirección con la que tus clientes entran a tu tienda.".into()
            } else {
                "That address is not a public store on the internet. Enter the address your customers use to reach your store.".into()
            }
        }
        StepError::StoreRedirects(to) => match (es, to) {
            (true, Some(to)) => {
                format!("Esa URL redirige a {to}. Usa la dirección principal de tu tienda.")
            }
            (true, None) => {
                "Esa URL redirige a otra dirección. Usa la dirección principal de tu tienda.".into()
            }
            (false, Some(to)) => {
                format!("That URL redirects to {to}. Use your store's main address.")
            }
            (false, None) => "That URL redirects elsewhere. Use your store's main address.".into(),
        },
        StepError::UseStoreAddress(home) => {
            if es {
                format!(
                    "Tu tienda se llama a sí misma {home}. Escribe esa dirección: WooCommerce solo acepta claves usadas en la dirección de la tienda."
                )
            } else {
                format!(
                    "Your store calls itself {home}. Enter that address: WooCommerce only accepts keys used at the store's own address."
                )
            }
        }
        StepError::StoreCertificate(problem) => {
            let why = match (es, problem) {
                (true, CertProblem::Expired) => "está vencido (o aún no es válido)",
                (true, CertProblem::WrongHost) => {
                    "es de otro nombre de dominio, no del de esta dirección"
                }
                (true, CertProblem::UnknownIssuer) => {
                    "lo firmó una autoridad desconocida (autofirmado, o falta el certificado intermedio)"
                }
                (true, CertProblem::Other) => "no es válido",
                (false, CertProblem::Expired) => "has expired (or is not valid yet)",
                (false, CertProblem::WrongHost) => "is for another domain name, not this address's",
                (false, CertProblem::UnknownIssuer) => {
                    "is signed by an unknown authority (self-signed, or the intermediate certificate is missing)"
                }
                (false, CertProblem::Other) => "is not valid",
            };
            if es {
                format!(
                    "Tu tienda responde, pero su certificado HTTPS {why}. Pide a tu proveedor de hosting que lo renueve o corrija y vuelve a intentarlo."
                )
            } else {
                format!(
                    "Your store answers, but its HTTPS certificate {why}. Ask your hosting provider to renew or fix it and try again."
                )
            }
        }
        StepError::NotWooCommerce => {
            if es {
                "Ese sitio no parece ser una tienda WooCommerce (no responde la API REST de WooCommerce).".into()
            } else {
                "That site does not look like a WooCommerce store (WooCommerce's REST API does not answer).".into()
            }
        }
        StepError::InvalidCode(problem) => {
            let why = match (es, problem) {
                (true, CodeProblem::Empty) => "falta el código",
                (true, CodeProblem::Spaces) => "no puede tener espacios",
                (true, CodeProblem::TooLong) => "es demasiado largo",
                (true, CodeProblem::Characters) => "solo puede tener letras, números, - y _",
                (false, CodeProblem::Empty) => "it is missing",
                (false, CodeProblem::Spaces) => "it cannot contain spaces",
                (false, CodeProblem::TooLong) => "it is too long",
                (false, CodeProblem::Characters) => "it may only contain letters, digits, - and _",
            };
            if es {
                format!("El código de courier no es válido: {why}.")
            } else {
                format!("The courier code is not valid: {why}.")
            }
        }
        StepError::UnknownCode => {
            if es {
                "No existe un courier con ese código. Revisa el código que te dio tu courier."
                    .into()
            } else {
                "No courier has that code. Check the code your courier gave you.".into()
            }
        }
        StepError::CourierInactive => {
            if es {
                "Ese courier no está activo en TrackingTech. Contacta a tu courier.".into()
            } else {
                "That courier is not active on TrackingTech. Contact your courier.".into()
            }
        }
        StepError::WrongCredentials => {
            if es {
                "Email o contraseña incorrectos.".into()
            } else {
                "Wrong email or password.".into()
            }
        }
        StepError::TooManyAttempts(wait) => {
            // Rounded up, as `Retry-After` is: waiting the seconds said is always enough.
            let secs = wait
                .map(|d| (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1))
                .unwrap_or(60);
            if es {
                format!("Demasiados intentos. Espera {secs} segundos antes de volver a intentarlo.")
            } else {
                format!("Too many attempts. Wait {secs} seconds before trying again.")
            }
        }
        StepError::NoStores => {
            if es {
                "Tu cuenta de TrackingTech no tiene tiendas. Crea una en TrackingTech y vuelve a intentarlo.".into()
            } else {
                "Your TrackingTech account has no stores. Create one in TrackingTech and try again."
                    .into()
            }
        }
        StepError::UnknownStore => {
            if es {
                "Elige una de las tiendas de la lista.".into()
            } else {
                "Choose one of the stores in the list.".into()
            }
        }
        StepError::SessionExpired => {
            if es {
                "Tu sesión de TrackingTech expiró. Vuelve a ingresar tu email y contraseña.".into()
            } else {
                "Your TrackingTech session expired. Enter your email and password again.".into()
            }
        }
        StepError::TrackingTechRefused(msg) => {
            if es {
                format!("TrackingTech rechazó la solicitud: {msg}")
            } else {
                format!("TrackingTech refused the request: {msg}")
            }
        }
        StepError::TrackingTechUnavailable => {
            if es {
                "TrackingTech no responde en este momento. Inténtalo de nuevo en unos minutos."
                    .into()
            } else {
                "TrackingTech is not answering right now. Try again in a few minutes.".into()
            }
        }
        StepError::InvalidKeys(_) => {
            if es {
                "Las claves no son válidas: pega la clave de cliente (ck_…) y la clave secreta (cs_…) completas.".into()
            } else {
                "The keys are not valid: paste the whole consumer key (ck_…) and consumer secret (cs_…).".into()
            }
        }
        StepError::WooAccessDenied => {
            if es {
                "WooCommerce rechazó las claves, por una de dos razones: no conoce esa clave de cliente (está revocada o mal copiada), o la firma no coincidió (la clave secreta no es la de esa clave, o la dirección de la tienda no es la que WooCommerce usa). Revisa ambas, y que las claves sean de un administrador.".into()
            } else {
                "WooCommerce refused the keys, for one of two reasons: it does not know that consumer key (revoked or mistyped), or the signature did not match (the secret is not that key's, or the store address is not the one WooCommerce uses). Check both, and that the keys belong to an administrator.".into()
            }
        }
        StepError::WooUnknownKey => {
            if es {
                "WooCommerce no conoce esa clave de cliente: está revocada o mal copiada. Crea claves nuevas o vuelve a aprobar la conexión.".into()
            } else {
                "WooCommerce does not know that consumer key: it was revoked or mistyped. Create new keys or approve the connection again.".into()
            }
        }
        StepError::WooWrongSecret => {
            if es {
                "WooCommerce conoce la clave de cliente, pero la clave secreta no es la suya. Pega la clave secreta (cs_…) de esa misma clave.".into()
            } else {
                "WooCommerce knows the consumer key, but the secret is not its own. Paste the consumer secret (cs_…) of that same key.".into()
            }
        }
        StepError::WooSignature(store) => {
            if es {
                format!(
                    "WooCommerce rechazó la firma de la solicitud: o la clave secreta no es la de esa clave de cliente, o tu tienda no usa la dirección {store} (revisa http/https, www. y la ruta)."
                )
            } else {
                format!(
                    "WooCommerce refused the request's signature: either the secret is not that consumer key's, or your store does not use the address {store} (check http/https, www. and the path)."
                )
            }
        }
        StepError::KeysReadOnly => {
            if es {
                "Las claves no tienen permiso de escritura. Crea claves con permisos de lectura/escritura.".into()
            } else {
                "The keys have no write permission. Create keys with read/write permissions.".into()
            }
        }
        StepError::WebhookRefused(msg) => {
            if es {
                format!("WooCommerce no permitió crear el webhook de ttwc: {msg}")
            } else {
                format!("WooCommerce did not allow ttwc's webhook: {msg}")
            }
        }
        StepError::OutOfOrder => {
            if es {
                "Falta un paso anterior (¿usaste el botón Atrás?). Empecemos de nuevo desde el paso 1.".into()
            } else {
                "A previous step is missing (did you use the Back button?). Let's start again from step 1.".into()
            }
        }
        // Neither the other account nor its connection is named: a visitor who typed a store's
        // address learns only that it is taken.
        StepError::HeldByAnotherAccount { .. } => {
            if es {
                "Esta tienda ya está conectada a otra cuenta de TrackingTech. Esa cuenta debe desconectarla primero desde su panel de ttwc; si ya nadie puede ingresar a ella, contacta al operador de este ttwc.".into()
            } else {
                "This store is already connected to another TrackingTech account. That account must disconnect it first, from its ttwc dashboard; if nobody can sign in to it any more, contact the operator of this ttwc.".into()
            }
        }
        StepError::Internal => {
            if es {
                "Algo falló en ttwc. Inténtalo de nuevo; si sigue pasando, avisa al operador."
                    .into()
            } else {
                "Something failed in ttwc. Try again; if it keeps happening, tell the operator."
                    .into()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_of_es_and_en() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,es;q=0.8"),
            Lang::En
        );
        assert_eq!(
            Lang::from_accept_language("es-CL,es;q=0.9,en;q=0.8"),
            Lang::Es
        );
        assert_eq!(Lang::from_accept_language("fr-FR,en;q=0.5"), Lang::En);
        assert_eq!(Lang::from_accept_language("fr-FR"), Lang::Es);
        assert_eq!(Lang::from_accept_language("en;q=0.2, es;q=0.7"), Lang::Es);
        assert_eq!(Lang::from_accept_language(""), Lang::Es);
    }

    #[test]
    fn every_error_has_both_languages() {
        let all = [
            StepError::InvalidStoreUrl("x".into()),
            StepError::StoreUnreachable,
            StepError::StoreNotPublic,
            StepError::StoreRedirects(Some("https://b".into())),
            StepError::NotWooCommerce,
            StepError::InvalidCode(CodeProblem::Spaces),
            StepError::UnknownCode,
            StepError::CourierInactive,
            StepError::WrongCredentials,
            StepError::TooManyAttempts(None),
            StepError::KeysReadOnly,
            StepError::WooAccessDenied,
            StepError::WooUnknownKey,
            StepError::WooWrongSecret,
            StepError::WooSignature("http://t.cl".into()),
            StepError::UseStoreAddress("https://t.cl".into()),
            StepError::StoreCertificate(CertProblem::Expired),
            StepError::StoreCertificate(CertProblem::WrongHost),
            StepError::StoreCertificate(CertProblem::UnknownIssuer),
            StepError::StoreCertificate(CertProblem::Other),
            StepError::HeldByAnotherAccount {
                store_url: "https://t.cl".into(),
                owner: "DEMO:1".into(),
                connection_id: "con_x".into(),
            },
        ];
        for e in all {
            assert_ne!(step_error(Lang::Es, &e), step_error(Lang::En, &e), "{e:?}");
        }
    }
}
