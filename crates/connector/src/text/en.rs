//! The English table: every code's wording.

use super::{Code, Lang, Params, webhook_status, woo_status};

const L: Lang = Lang::En;

pub(super) fn render(code: Code, p: &Params<'_>) -> String {
    let number = || p.s("number");
    match code {
        Code::Legacy => p.s("text"),
        Code::Connected => format!(
            "Store {} connected to {} ({}).",
            p.s("store_url"),
            p.s("tt_store"),
            p.s("courier")
        ),
        Code::Reconnected => format!(
            "Store {} connected again to {} ({}).",
            p.s("store_url"),
            p.s("tt_store"),
            p.s("courier")
        ),
        Code::Disconnected => format!(
            "Store disconnected: ttwc forgot its keys and tokens; {}.",
            L.count(
                p.n("cancelled"),
                "queued order cancelled",
                "queued orders cancelled"
            )
        ),
        Code::KeyLeftInStore => format!(
            "The REST API key stays in the store until you revoke it (WooCommerce's API cannot delete keys): “{}”, consumer key ending in {} (a key you pasted keeps the description you gave it). Revoke it in WooCommerce › Settings › Advanced › REST API: {}",
            p.s("description"),
            p.s("ending"),
            p.s("keys_url")
        ),
        Code::SettingsChanged => format!(
            "Settings saved: orders are sent when they reach “{}”; on delivery the order {} marked completed; the customer {} the tracking notes.",
            woo_status(L, &p.s("trigger_status")),
            if p.b("mark_completed") {
                "is"
            } else {
                "is not"
            },
            if p.b("notify_customer") {
                "gets"
            } else {
                "does not get"
            },
        ),
        Code::NeedsRelogin => {
            "TrackingTech refused the store's token: reconnect the store to resume sending."
                .to_owned()
        }
        Code::UninstallFailed => format!(
            "Could not uninstall the integration at TrackingTech ({}); the store is disconnected all the same.",
            p.s("detail")
        ),
        Code::TakenOver => format!(
            "An operator moved store {} from TrackingTech account {} to account {} (ttwc connect --take-over); it is connected to {} ({}). {}Orders queued for the previous account cancelled: {}.",
            p.s("store_url"),
            p.s("old_owner"),
            p.s("new_owner"),
            p.s("tt_store"),
            p.s("courier"),
            if p.b("uninstalled") {
                "The previous account's integration was uninstalled at TrackingTech. "
            } else {
                ""
            },
            p.num("cancelled")
        ),
        Code::TakeOverUninstallFailed => format!(
            "Could not uninstall the previous account's ({}) integration at TrackingTech ({}); the store moved to the new account all the same. Ask TrackingTech to uninstall it.",
            p.s("old_owner"),
            p.s("detail")
        ),
        Code::WebhookDeleteFailed => format!(
            "Could not delete the webhook in WooCommerce ({}): delete it in WooCommerce › Settings › Advanced › Webhooks.",
            p.s("detail")
        ),
        Code::WebhookReenabled => format!(
            "WooCommerce had set the webhook {}; it was re-enabled.",
            webhook_status(L, &p.s("status"))
        ),
        Code::WebhookPaused => format!(
            "The store's webhook is {} in WooCommerce: orders arrive only through reconcile, every {}. To get them at once, activate it in WooCommerce › Settings › Advanced › Webhooks.",
            webhook_status(L, &p.s("status")),
            L.count(p.n("minutes"), "minute", "minutes")
        ),
        Code::WebhookRecreated => {
            "The webhook was deleted in the store; a new one was created.".to_owned()
        }
        Code::OrderSent => format!(
            "Order #{} sent to TrackingTech — tracking {}.",
            number(),
            p.s("tracking")
        ),
        Code::OrderRejected => format!("Order #{} rejected: {}", number(), p.t("reason")),
        Code::OrderSkipped => format!("Order #{} skipped: {}", number(), p.t("reason")),
        Code::OrderFailed => format!("Order #{} could not be sent: {}", number(), p.t("error")),
        Code::OrderStatus => format!("Order #{}: {}.", number(), p.s("status_name")),
        Code::SentThenCancelled => format!(
            "Order #{} was already sent to TrackingTech and is now “{}” in WooCommerce: tell the courier (tracking {}).",
            number(),
            woo_status(L, &p.s("status")),
            p.s("tracking")
        ),
        Code::LeftOut => format!(
            "Order #{} predates the store's connection and is not sent on its own. To send it, use “Load earlier orders” since {} on the dashboard.",
            number(),
            p.s("since")
        ),
        Code::WritebackFailed => format!(
            "Could not write back to order #{} in WooCommerce: {}",
            number(),
            p.s("detail")
        ),
        Code::TrackingItemsKept => format!(
            "Order #{} keeps its tracking numbers (_wc_shipment_tracking_items) in a form ttwc cannot add to: left as they were, without tracking {}.",
            number(),
            p.s("tracking")
        ),
        Code::BackfillDone => format!(
            "Backfill: {} seen, {} queued.",
            L.count(p.n("seen"), "order", "orders"),
            p.num("queued")
        ),
        Code::BackfillProgress => format!(
            "{} seen, {} queued",
            L.count(p.n("seen"), "order", "orders"),
            p.num("queued")
        ),
        Code::ReconcileFound => format!(
            "Reconcile queued {} the webhook missed.",
            L.count(p.n("count"), "order", "orders")
        ),
        Code::ResendQueued => format!(
            "{} again from the dashboard.",
            L.count(p.n("count"), "order queued", "orders queued")
        ),
        Code::Pickup => format!(
            "Order #{} is a local pickup: there is nothing for a courier to deliver.",
            number()
        ),
        Code::NothingToShip => format!(
            "Order #{} only has products that need no shipping (virtual ones): there is nothing for a courier to deliver.",
            number()
        ),
        Code::NoQuantity => format!(
            "Order #{} has no product with a quantity of 1 or more. Fix it in WooCommerce and send it again.",
            number()
        ),
        Code::NoStreet => format!(
            "Order #{} has no shipping address (street and number). Fix it in WooCommerce and send it again.",
            number()
        ),
        Code::NoCity => format!(
            "Order #{} has no shipping city (comuna). Fix it in WooCommerce and send it again.",
            number()
        ),
        Code::BadPrice => format!(
            "Line {} (“{}”) of order #{} has a total that is not a number, so it has no price. Fix it in WooCommerce and send the order again.",
            p.num("line"),
            p.s("name"),
            number()
        ),
        Code::QuantityTooLarge => format!(
            "Line {} (“{}”) of order #{} has too large a quantity ({}). Fix it in WooCommerce and send the order again.",
            p.num("line"),
            p.s("name"),
            number(),
            p.num("quantity")
        ),
        Code::NotShippable => format!(
            "The order is now “{}” in WooCommerce: it is not sent any more.",
            woo_status(L, &p.s("status"))
        ),
        Code::OrderGone => "The order no longer exists in WooCommerce.".to_owned(),
        Code::WooCommerceError => {
            format!("WooCommerce did not answer properly: {}", p.s("detail"))
        }
        Code::TrackingTechError => {
            format!("TrackingTech did not answer properly: {}", p.s("detail"))
        }
        Code::TrackingTechRefused => format!(
            "TrackingTech refused the order (HTTP {}): {}",
            p.n("status"),
            p.s("message")
        ),
        Code::GaveUp => format!(
            "Gave up retrying after {}: {}",
            L.count(p.n("hours"), "hour", "hours"),
            p.t("error")
        ),
        Code::ConnectionGone => "The connection no longer exists.".to_owned(),
        Code::ConnectionNotConnected => match p.s("state").as_str() {
            "disconnected" => "The store is disconnected.".to_owned(),
            _ => "The store must be reconnected.".to_owned(),
        },
        Code::NoToken => {
            "The connection has no valid TrackingTech session: reconnect the store.".to_owned()
        }
        Code::NoKeys => {
            "The connection has no valid WooCommerce keys: reconnect the store.".to_owned()
        }
        Code::BadStoreUrl => "The store URL is not valid.".to_owned(),
        Code::PayloadUnreadable => format!(
            "The order's stored data cannot be read ({}).",
            p.s("detail")
        ),
        Code::DatabaseUnavailable => "The database did not answer; try again.".to_owned(),
        Code::Internal => format!("Internal error: {}", p.s("detail")),
        Code::TriggerStatusUnknown => format!(
            "The store has no order status \"{}\": choose one of the store's statuses in the settings (meanwhile no order reaches that status, so none is sent).",
            p.s("slug")
        ),
        Code::StoreStatusesUnavailable => format!(
            "Could not read the store's order statuses ({}); try again.",
            p.s("detail")
        ),
        Code::NoteStatus => format!(
            "TrackingTech: {} — tracking {}",
            p.s("status_name"),
            p.s("tracking")
        ),
    }
}
