//! Shipment statuses: their Spanish names and how the sandbox moves an order along.

/// The Spanish label; an unknown status is shown as it is, as the contract asks.
pub(crate) fn name(status: &str) -> &str {
    match status {
        "created" => "Creado",
        "pending" => "Pendiente",
        "picked_up" => "Retirado",
        "in_transit" => "En tránsito",
        "out_for_delivery" => "En reparto",
        "delivered" => "Entregado",
        "failed_attempt" => "Intento fallido",
        "returned" => "Devuelto",
        "cancelled" => "Cancelado",
        other => other,
    }
}

/// The next step, or `None` when the order stays put: final statuses never move, and the sandbox
/// cannot know where an unknown status sits. A pending order is next picked up; a failed delivery
/// attempt goes out for delivery again.
pub(crate) fn next(status: &str) -> Option<&'static str> {
    match status {
        "created" | "pending" => Some("picked_up"),
        "picked_up" => Some("in_transit"),
        "in_transit" | "failed_attempt" => Some("out_for_delivery"),
        "out_for_delivery" => Some("delivered"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_statuses_never_move() {
        for s in ["delivered", "returned", "cancelled", "lost_in_space"] {
            assert_eq!(next(s), None, "{s}");
        }
    }

    #[test]
    fn progression_reaches_delivered() {
        let mut s = "created";
        let mut path = vec![s];
        while let Some(n) = next(s) {
            s = n;
            path.push(s);
        }
        assert_eq!(
            path,
            [
                "created",
                "picked_up",
                "in_transit",
                "out_for_delivery",
                "delivered"
            ]
        );
        assert_eq!(name("lost_in_space"), "lost_in_space");
        assert_eq!(name("in_transit"), "En tránsito");
    }
}
