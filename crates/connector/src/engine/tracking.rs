//! ttwc's tracking item among an order's shipment-tracking items, beside everyone else's.
//!
//! An order may already carry another carrier's items (a person typed them, another plugin wrote
//! them). ttwc adds its own item and afterwards touches only that one; every other item stays
//! exactly as it was. Two places hold the items:
//!
//! - the Shipment Tracking extension's REST API, which can create, list and delete an item but
//!   not update one, and generates the item's id itself: ttwc keeps that id in its own order meta
//!   ([`ITEM_ID_META`]), replaces its item by delete then create when the number must change, and
//!   lists first so that a retried write-back finds its item already there instead of adding a
//!   second one;
//! - without the API, the order meta the extension's templates read ([`ITEMS_META`]): read,
//!   merged (ttwc's item found by its own `tracking_id`) and written back whole — unless the
//!   value is not a list ttwc can add to, which it then leaves alone.

use serde_json::{Value, json};

/// The provider name on ttwc's items.
pub const PROVIDER: &str = "TrackingTech";
/// Where the extension keeps an order's items.
pub const ITEMS_META: &str = "_wc_shipment_tracking_items";
/// ttwc's own order meta: the extension's id of ttwc's item, when the REST API made it.
pub const ITEM_ID_META: &str = "_trackingtech_tracking_item_id";

/// ttwc's `tracking_id` for the item it writes into the meta itself.
pub fn own_item_id(order_id: i64) -> String {
    format!("ttwc{order_id}")
}

/// What to do with the items meta.
#[derive(Debug, Clone, PartialEq)]
pub enum Merge {
    /// Write this list: every other item as it was, ttwc's added or updated in its place.
    Write(Value),
    /// ttwc's item already holds the number: nothing to write.
    Unchanged,
    /// The meta is not one list ttwc can add to (another value, or several entries): leave it.
    Kept,
}

/// Merges ttwc's item with `number` into the order's items meta. `entries` are the values of
/// every meta entry with [`ITEMS_META`] (WooCommerce allows several; writing the key would
/// remove all but the first); `shipped` is the Unix time written as `date_shipped`, an integer as
/// the extension stores it.
pub fn merge_meta(entries: &[&Value], own_id: &str, number: &str, shipped: i64) -> Merge {
    let ours = json!({
        "tracking_provider": "",
        "custom_tracking_provider": PROVIDER,
        "custom_tracking_link": "",
        "tracking_number": number,
        "date_shipped": shipped,
        "tracking_id": own_id,
    });
    let mut items = match entries {
        [] => Vec::new(),
        // Nothing there to keep: how WordPress shows an emptied meta.
        [Value::Null] => Vec::new(),
        [Value::String(s)] if s.is_empty() => Vec::new(),
        [Value::Array(items)] => items.clone(),
        _ => return Merge::Kept,
    };
    let is_ours = |item: &Value| item.get("tracking_id").and_then(Value::as_str) == Some(own_id);
    match items.iter().position(is_ours) {
        Some(at) if items[at].get("tracking_number").and_then(Value::as_str) == Some(number) => {
            Merge::Unchanged
        }
        Some(at) => {
            items[at] = ours;
            Merge::Write(Value::Array(items))
        }
        None => {
            items.push(ours);
            Merge::Write(Value::Array(items))
        }
    }
}

/// Makes the order's items through the extension's REST API hold ttwc's item with `number`, and
/// returns that item's id. `saved_id` is the id ttwc kept from an earlier create.
pub async fn through_api(
    woo: &woocommerce::Client,
    order_id: u64,
    number: &str,
    saved_id: Option<&str>,
) -> Result<String, woocommerce::Error> {
    let items = woo.list_shipment_trackings(order_id).await?;
    // A retry after the create succeeded, or the item already there: nothing to add.
    let present = items.iter().find(|i| {
        i.tracking_number == number
            && (Some(i.tracking_id.as_str()) == saved_id || i.tracking_provider == PROVIDER)
    });
    if let Some(item) = present {
        return Ok(item.tracking_id.clone());
    }
    // ttwc's earlier item with another number (found only by the id ttwc kept: an item of the
    // same provider that ttwc did not make is someone's choice).
    if let Some(old) = saved_id.filter(|id| items.iter().any(|i| i.tracking_id == *id)) {
        match woo.delete_shipment_tracking(order_id, old).await {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    let created = woo
        .add_shipment_tracking(order_id, PROVIDER, number)
        .await?;
    Ok(created.tracking_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn theirs() -> Value {
        json!({"tracking_provider": "chilexpress", "custom_tracking_provider": "", "custom_tracking_link": "", "tracking_number": "CX-998877", "date_shipped": "1700000000", "tracking_id": "abc123"})
    }

    #[test]
    fn adds_beside_others_and_updates_only_its_own() {
        let other = json!([theirs()]);
        let Merge::Write(added) = merge_meta(&[&other], "ttwc7", "LM1", 5) else {
            panic!("expected a write");
        };
        assert_eq!(added[0], theirs());
        assert_eq!(added[1]["tracking_id"], "ttwc7");
        assert_eq!(added[1]["tracking_number"], "LM1");
        assert_eq!(added.as_array().map(Vec::len), Some(2));

        assert_eq!(merge_meta(&[&added], "ttwc7", "LM1", 9), Merge::Unchanged);

        let Merge::Write(updated) = merge_meta(&[&added], "ttwc7", "LM2", 9) else {
            panic!("expected a write");
        };
        assert_eq!(updated[0], theirs());
        assert_eq!(updated[1]["tracking_number"], "LM2");
        assert_eq!(updated[1]["date_shipped"], 9);
        assert_eq!(updated.as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn empty_meta_gets_the_one_item() {
        for empty in [Value::Null, json!(""), json!([])] {
            let Merge::Write(items) = merge_meta(&[&empty], "ttwc7", "LM1", 5) else {
                panic!("expected a write for {empty}");
            };
            assert_eq!(items.as_array().map(Vec::len), Some(1), "{empty}");
        }
        assert!(matches!(
            merge_meta(&[], "ttwc7", "LM1", 5),
            Merge::Write(_)
        ));
    }

    #[test]
    fn anything_but_one_list_is_kept() {
        let list = json!([theirs()]);
        for value in [json!({"0": theirs()}), json!("a:1:{}"), json!(3)] {
            assert_eq!(
                merge_meta(&[&value], "ttwc7", "LM1", 5),
                Merge::Kept,
                "{value}"
            );
        }
        assert_eq!(merge_meta(&[&list, &list], "ttwc7", "LM1", 5), Merge::Kept);
    }
}
