//! Realistic Chilean customers and carts for `POST /_sim/orders`.

use rand::Rng;
use rand::seq::IndexedRandom;

use crate::store::{Billing, NewLine, NewOrder, ProductKind, Shipping, Store};

const FIRST: &[&str] = &[
    "Camila",
    "Valentina",
    "Javiera",
    "Sofía",
    "Isidora",
    "Antonia",
    "Fernanda",
    "Catalina",
    "Matías",
    "Benjamín",
    "Vicente",
    "Martín",
    "Agustín",
    "Joaquín",
    "Tomás",
    "Cristóbal",
    "Ignacia",
    "Florencia",
    "José",
    "Francisca",
];
const LAST: &[&str] = &[
    "González",
    "Muñoz",
    "Rojas",
    "Díaz",
    "Pérez",
    "Soto",
    "Contreras",
    "Silva",
    "Martínez",
    "Sepúlveda",
    "Morales",
    "Rodríguez",
    "López",
    "Fuentes",
    "Hernández",
    "Torres",
    "Araya",
    "Flores",
    "Espinoza",
    "Valenzuela",
    "Castillo",
    "Tapia",
    "Reyes",
    "Gutiérrez",
    "Castro",
    "Pizarro",
    "Álvarez",
    "Vásquez",
    "Sánchez",
    "Fernández",
    "Ñancupil",
];
/// (comuna, region code, postcode)
const COMUNAS: &[(&str, &str, &str)] = &[
    ("Santiago", "CL-RM", "8320000"),
    ("Providencia", "CL-RM", "7500000"),
    ("Las Condes", "CL-RM", "7550000"),
    ("Ñuñoa", "CL-RM", "7750000"),
    ("Maipú", "CL-RM", "9250000"),
    ("Puente Alto", "CL-RM", "8150000"),
    ("La Florida", "CL-RM", "8240000"),
    ("Valparaíso", "CL-VS", "2340000"),
    ("Viña del Mar", "CL-VS", "2520000"),
    ("Concepción", "CL-BI", "4030000"),
    ("Talcahuano", "CL-BI", "4260000"),
    ("Temuco", "CL-AR", "4780000"),
    ("Antofagasta", "CL-AN", "1240000"),
    ("La Serena", "CL-CO", "1700000"),
    ("Rancagua", "CL-LI", "2820000"),
    ("Talca", "CL-ML", "3460000"),
    ("Chillán", "CL-NB", "3780000"),
    ("Puerto Montt", "CL-LL", "5480000"),
    ("Valdivia", "CL-LR", "5090000"),
    ("Punta Arenas", "CL-MA", "6200000"),
    ("Iquique", "CL-TA", "1100000"),
    ("Arica", "CL-AP", "1000000"),
    ("Copiapó", "CL-AT", "1530000"),
    ("Coyhaique", "CL-AI", "5950000"),
];
const STREETS: &[&str] = &[
    "Av. Providencia",
    "Av. Libertador Bernardo O'Higgins",
    "Calle Esmeralda",
    "Av. Grecia",
    "Los Carrera",
    "Av. Alemania",
    "Av. Apoquindo",
    "Calle Prat",
    "Av. Argentina",
    "Pasaje Los Aromos",
    "Av. Vicuña Mackenna",
    "Calle Colón",
    "Av. Irarrázaval",
    "Camino a Melipilla",
];
const NOTES: &[&str] = &[
    "",
    "",
    "",
    "Dejar en conserjería",
    "Llamar antes de llegar",
    "Timbre no funciona, golpear",
];

fn ascii_fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'Á' => 'a',
            'é' | 'É' => 'e',
            'í' | 'Í' => 'i',
            'ó' | 'Ó' => 'o',
            'ú' | 'Ú' => 'u',
            'ñ' | 'Ñ' => 'n',
            c => c.to_ascii_lowercase(),
        })
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// A random order: one to three lines (variations included), sometimes only the virtual gift
/// card, a flat-rate shipping line unless nothing ships. Every choice is drawn from `rng`, and
/// the catalogue is walked in id order, so a seeded `rng` makes the same orders again.
pub(crate) fn random_order(store: &Store, status: &str, rng: &mut impl Rng) -> NewOrder {
    let first = FIRST.choose(rng).copied().unwrap_or("Camila");
    let last = format!(
        "{} {}",
        LAST.choose(rng).copied().unwrap_or("González"),
        LAST.choose(rng).copied().unwrap_or("Muñoz")
    );
    let (comuna, region, postcode) = COMUNAS
        .choose(rng)
        .copied()
        .unwrap_or(("Santiago", "CL-RM", "8320000"));
    let street = format!(
        "{} {}",
        STREETS.choose(rng).copied().unwrap_or("Av. Providencia"),
        rng.random_range(10..4000)
    );
    let address_2 = if rng.random_bool(0.4) {
        format!("Depto {}", rng.random_range(101..2500))
    } else {
        String::new()
    };
    let phone = format!("+569{}", rng.random_range(10_000_000..99_999_999));
    let email = format!(
        "{}.{}{}@example.cl",
        ascii_fold(first),
        ascii_fold(last.split(' ').next().unwrap_or("")),
        rng.random_range(1..99)
    );

    let virtual_ids: Vec<u64> = store
        .products
        .values()
        .filter(|p| p.is_virtual && p.downloadable)
        .map(|p| p.id)
        .collect();
    let physical: Vec<&crate::store::Product> = store
        .products
        .values()
        .filter(|p| p.kind != ProductKind::Variable && !(p.is_virtual && p.downloadable))
        .collect();
    let mut lines = Vec::new();
    if !virtual_ids.is_empty() && (physical.is_empty() || rng.random_bool(0.12)) {
        if let Some(id) = virtual_ids.choose(rng) {
            lines.push(NewLine {
                product_id: *id,
                quantity: 1,
                ..NewLine::default()
            });
        }
    } else {
        let n = rng.random_range(1..=3usize).min(physical.len());
        for p in physical.choose_multiple(rng, n) {
            let (product_id, variation_id) = if p.kind == ProductKind::Variation {
                (p.parent_id, p.id)
            } else {
                (p.id, 0)
            };
            lines.push(NewLine {
                product_id,
                variation_id,
                quantity: rng.random_range(1..=3),
                ..NewLine::default()
            });
        }
    }
    let ships = lines.iter().any(|l| {
        let id = if l.variation_id != 0 {
            l.variation_id
        } else {
            l.product_id
        };
        store.products.get(&id).is_some_and(|p| !p.is_virtual)
    });
    let shipping_lines = if ships {
        let cost = [2990.0, 3990.0, 4990.0, 5990.0, 6990.0]
            .choose(rng)
            .copied()
            .unwrap_or(3990.0);
        vec![("flat_rate".to_owned(), "Envío a domicilio".to_owned(), cost)]
    } else {
        Vec::new()
    };
    let (payment_method, payment_method_title) = if rng.random_bool(0.8) {
        ("webpay", "Webpay Plus")
    } else {
        ("bacs", "Transferencia bancaria directa")
    };
    NewOrder {
        status: status.to_owned(),
        billing: Billing {
            first_name: first.into(),
            last_name: last.clone(),
            address_1: street.clone(),
            address_2: address_2.clone(),
            city: comuna.into(),
            state: region.into(),
            postcode: postcode.into(),
            country: "CL".into(),
            email,
            phone: phone.clone(),
            ..Billing::default()
        },
        shipping: Shipping {
            first_name: first.into(),
            last_name: last,
            address_1: street,
            address_2,
            city: comuna.into(),
            state: region.into(),
            postcode: postcode.into(),
            country: "CL".into(),
            phone: if rng.random_bool(0.5) {
                phone
            } else {
                String::new()
            },
            ..Shipping::default()
        },
        lines,
        shipping_lines,
        customer_note: NOTES.choose(rng).copied().unwrap_or("").to_owned(),
        payment_method: payment_method.into(),
        payment_method_title: payment_method_title.into(),
        created_via: "checkout".into(),
        ..NewOrder::default()
    }
}
