//! The Spanish table: every code's wording.

use super::{Code, Lang, Params, webhook_status, woo_status};

const L: Lang = Lang::Es;

pub(super) fn render(code: Code, p: &Params<'_>) -> String {
    let number = || p.s("number");
    match code {
        Code::Legacy => p.s("text"),
        Code::Connected => format!(
            "Tienda {} conectada a {} ({}).",
            p.s("store_url"),
            p.s("tt_store"),
            p.s("courier")
        ),
        Code::Reconnected => format!(
            "Tienda {} conectada de nuevo a {} ({}).",
            p.s("store_url"),
            p.s("tt_store"),
            p.s("courier")
        ),
        Code::Disconnected => format!(
            "Tienda desconectada: ttwc olvidó sus claves y tokens; {}.",
            L.count(
                p.n("cancelled"),
                "pedido en cola cancelado",
                "pedidos en cola cancelados"
            )
        ),
        Code::KeyLeftInStore => format!(
            "La clave de la API REST sigue en la tienda hasta que la revoques (la API de WooCommerce no permite borrar claves): «{}», clave de cliente terminada en {} (una clave que pegaste conserva la descripción que le diste). Revócala en WooCommerce › Ajustes › Avanzado › API REST: {}",
            p.s("description"),
            p.s("ending"),
            p.s("keys_url")
        ),
        Code::SettingsChanged => format!(
            "Ajustes guardados: se envían los pedidos que llegan a «{}»; al entregarse, el pedido {} como completado; el cliente {} las notas de seguimiento.",
            woo_status(L, &p.s("trigger_status")),
            if p.b("mark_completed") { "se marca" } else { "no se marca" },
            if p.b("notify_customer") { "recibe" } else { "no recibe" },
        ),
        Code::NeedsRelogin => {
            "TrackingTech no acepta la sesión de la tienda: vuelve a conectarla para reanudar los envíos.".to_owned()
        }
        Code::UninstallFailed => format!(
            "No se pudo desinstalar la integración en TrackingTech ({}); la tienda quedó desconectada igual.",
            p.s("detail")
        ),
        Code::TakenOver => format!(
            "Un operador pasó la tienda {} de la cuenta de TrackingTech {} a la cuenta {} (ttwc connect --take-over); quedó conectada a {} ({}). {}Pedidos en cola de la cuenta anterior cancelados: {}.",
            p.s("store_url"),
            p.s("old_owner"),
            p.s("new_owner"),
            p.s("tt_store"),
            p.s("courier"),
            if p.b("uninstalled") {
                "La integración de la cuenta anterior se desinstaló en TrackingTech. "
            } else {
                ""
            },
            p.num("cancelled")
        ),
        Code::TakeOverUninstallFailed => format!(
            "No se pudo desinstalar en TrackingTech la integración de la cuenta anterior {} ({}); la tienda pasó a la cuenta nueva igual. Pide a TrackingTech que la desinstale.",
            p.s("old_owner"),
            p.s("detail")
        ),
        Code::WebhookDeleteFailed => format!(
            "No se pudo borrar el webhook en WooCommerce ({}): bórralo en WooCommerce › Ajustes › Avanzado › Webhooks.",
            p.s("detail")
        ),
        Code::WebhookReenabled => format!(
            "WooCommerce había dejado el webhook {}; se reactivó.",
            webhook_status(L, &p.s("status"))
        ),
        Code::WebhookPaused => format!(
            "El webhook de la tienda está {} en WooCommerce: los pedidos llegan solo por la reconciliación, cada {}. Para recibirlos al instante, actívalo en WooCommerce › Ajustes › Avanzado › Webhooks.",
            webhook_status(L, &p.s("status")),
            L.count(p.n("minutes"), "minuto", "minutos")
        ),
        Code::WebhookRecreated => {
            "El webhook fue borrado en la tienda; se creó uno nuevo.".to_owned()
        }
        Code::OrderSent => format!(
            "Pedido #{} enviado a TrackingTech — seguimiento {}.",
            number(),
            p.s("tracking")
        ),
        Code::OrderRejected => format!("Pedido #{} rechazado: {}", number(), p.t("reason")),
        Code::OrderSkipped => format!("Pedido #{} omitido: {}", number(), p.t("reason")),
        Code::OrderFailed => format!(
            "No se pudo enviar el pedido #{}: {}",
            number(),
            p.t("error")
        ),
        Code::OrderStatus => format!("Pedido #{}: {}.", number(), p.s("status_name")),
        Code::SentThenCancelled => format!(
            "El pedido #{}, ya enviado a TrackingTech, quedó «{}» en WooCommerce: avisa al courier (seguimiento {}).",
            number(),
            woo_status(L, &p.s("status")),
            p.s("tracking")
        ),
        Code::LeftOut => format!(
            "El pedido #{} es anterior a la conexión de la tienda y no se envía solo. Para enviarlo, usa «Cargar pedidos anteriores» desde el {} en el panel.",
            number(),
            p.s("since")
        ),
        Code::WritebackFailed => format!(
            "No se pudo anotar el pedido #{} en WooCommerce: {}",
            number(),
            p.s("detail")
        ),
        Code::TrackingItemsKept => format!(
            "El pedido #{} guarda sus números de seguimiento (_wc_shipment_tracking_items) en un formato que ttwc no sabe ampliar: se dejaron como estaban, sin el seguimiento {}.",
            number(),
            p.s("tracking")
        ),
        Code::BackfillDone => format!(
            "Carga de pedidos anteriores: {} y {} en cola.",
            L.count(p.n("seen"), "pedido revisado", "pedidos revisados"),
            p.num("queued")
        ),
        Code::BackfillProgress => format!(
            "{}, {} en cola",
            L.count(p.n("seen"), "pedido revisado", "pedidos revisados"),
            p.num("queued")
        ),
        Code::ReconcileFound => format!(
            "Reconciliación: {}.",
            L.count(
                p.n("count"),
                "pedido que no llegó por webhook quedó en cola",
                "pedidos que no llegaron por webhook quedaron en cola"
            )
        ),
        Code::ResendQueued => format!(
            "{} desde el panel.",
            L.count(
                p.n("count"),
                "pedido puesto en cola de nuevo",
                "pedidos puestos en cola de nuevo"
            )
        ),
        Code::Pickup => format!(
            "El pedido #{} es con retiro en tienda: no hay nada que enviar por courier.",
            number()
        ),
        Code::NothingToShip => format!(
            "El pedido #{} solo tiene productos que no requieren envío (virtuales): no hay nada que enviar por courier.",
            number()
        ),
        Code::NoQuantity => format!(
            "El pedido #{} no tiene ningún producto con cantidad 1 o más. Corrígelo en WooCommerce y reenvíalo.",
            number()
        ),
        Code::NoStreet => format!(
            "El pedido #{} no tiene dirección de envío (calle y número). Corrígelo en WooCommerce y reenvíalo.",
            number()
        ),
        Code::NoCity => format!(
            "El pedido #{} no tiene ciudad o comuna de envío. Corrígelo en WooCommerce y reenvíalo.",
            number()
        ),
        Code::BadPrice => format!(
            "La línea {} («{}») del pedido #{} tiene un total que no es un número, así que no tiene precio. Corrígela en WooCommerce y reenvía el pedido.",
            p.num("line"),
            p.s("name"),
            number()
        ),
        Code::QuantityTooLarge => format!(
            "La línea {} («{}») del pedido #{} tiene una cantidad demasiado grande ({}). Corrígela en WooCommerce y reenvía el pedido.",
            p.num("line"),
            p.s("name"),
            number(),
            p.num("quantity")
        ),
        Code::NotShippable => format!(
            "El pedido está «{}» en WooCommerce: ya no se envía.",
            woo_status(L, &p.s("status"))
        ),
        Code::OrderGone => "El pedido ya no existe en WooCommerce.".to_owned(),
        Code::WooCommerceError => format!("WooCommerce no respondió bien: {}", p.s("detail")),
        Code::TrackingTechError => {
            format!("TrackingTech no respondió bien: {}", p.s("detail"))
        }
        Code::TrackingTechRefused => format!(
            "TrackingTech rechazó el pedido (HTTP {}): {}",
            p.n("status"),
            p.s("message")
        ),
        Code::GaveUp => format!(
            "Se dejó de reintentar después de {}: {}",
            L.count(p.n("hours"), "hora", "horas"),
            p.t("error")
        ),
        Code::ConnectionGone => "La conexión ya no existe.".to_owned(),
        Code::ConnectionNotConnected => match p.s("state").as_str() {
            "disconnected" => "La tienda está desconectada.".to_owned(),
            _ => "La tienda debe volver a conectarse.".to_owned(),
        },
        Code::NoToken => {
            "La conexión no tiene una sesión de TrackingTech válida: vuelve a conectar la tienda.".to_owned()
        }
        Code::NoKeys => {
            "La conexión no tiene claves de WooCommerce válidas: vuelve a conectar la tienda.".to_owned()
        }
        Code::BadStoreUrl => "La URL de la tienda no es válida.".to_owned(),
        Code::PayloadUnreadable => format!(
            "Los datos guardados del pedido no se pueden leer ({}).",
            p.s("detail")
        ),
        Code::DatabaseUnavailable => {
            "La base de datos no respondió; inténtalo de nuevo.".to_owned()
        }
        Code::Internal => format!("Error interno: {}", p.s("detail")),
        Code::TriggerStatusUnknown => format!(
            "La tienda no tiene el estado de pedido «{}»: elige en los ajustes uno de los estados de la tienda (mientras tanto ningún pedido llega a ese estado y no se envía).",
            p.s("slug")
        ),
        Code::StoreStatusesUnavailable => format!(
            "No se pudieron leer los estados de pedido de la tienda ({}); inténtalo de nuevo.",
            p.s("detail")
        ),
        Code::NoteStatus => format!(
            "TrackingTech: {} — seguimiento {}",
            p.s("status_name"),
            p.s("tracking")
        ),
    }
}
