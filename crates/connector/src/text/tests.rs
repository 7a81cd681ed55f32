use super::*;

/// Parameters for every code, as the code that writes it gives them: a code added without a
/// sample here does not compile, and each sample must render completely in every language.
fn sample(code: Code) -> Text {
    let t = Text::new(code);
    let reason = || Text::new(Code::NoCity).with("number", "1234");
    match code {
        Code::Legacy => t.with("text", "Texto antiguo"),
        Code::Connected | Code::Reconnected => t
            .with("store_url", "https://tienda.cl")
            .with("tt_store", "Bodega Central")
            .with("courier", "DEMO"),
        Code::Disconnected => t.with("cancelled", 3i64),
        Code::KeyLeftInStore => t
            .with("description", "TrackingTech (ttwc) - API (…)")
            .with("ending", "…1a2b3c4")
            .with(
                "keys_url",
                "https://tienda.cl/wp-admin/admin.php?page=wc-settings&tab=advanced&section=keys",
            ),
        Code::SettingsChanged => t
            .with("trigger_status", "processing")
            .with("mark_completed", true)
            .with("notify_customer", false),
        Code::NeedsRelogin
        | Code::WebhookRecreated
        | Code::OrderGone
        | Code::ConnectionGone
        | Code::NoToken
        | Code::NoKeys
        | Code::BadStoreUrl
        | Code::DatabaseUnavailable => t,
        Code::UninstallFailed | Code::WebhookDeleteFailed => t.with("detail", "HTTP 500"),
        Code::TakenOver => t
            .with("store_url", "https://tienda.cl")
            .with("tt_store", "Otra bodega")
            .with("courier", "DEMO")
            .with("old_owner", "DEMO:1")
            .with("new_owner", "DEMO:2")
            .with("cancelled", 2i64)
            .with("uninstalled", true),
        Code::TakeOverUninstallFailed => t.with("old_owner", "DEMO:1").with("detail", "HTTP 500"),
        Code::WebhookReenabled => t.with("status", "disabled"),
        Code::WebhookPaused => t.with("status", "paused").with("minutes", 5i64),
        Code::OrderSent => t.with("number", "1234").with("tracking", "TT-9"),
        Code::OrderRejected | Code::OrderSkipped => {
            t.with("number", "1234").with("reason", reason())
        }
        Code::OrderFailed => t.with("number", "1234").with(
            "error",
            Text::new(Code::WooCommerceError).with("detail", "HTTP 502"),
        ),
        Code::OrderStatus => t.with("number", "1234").with("status_name", "En tránsito"),
        Code::SentThenCancelled => t
            .with("number", "1234")
            .with("status", "refunded")
            .with("tracking", "TT-9"),
        Code::WritebackFailed => t.with("number", "1234").with("detail", "HTTP 403"),
        Code::TrackingItemsKept => t.with("number", "1234").with("tracking", "TT-9"),
        Code::LeftOut => t.with("number", "1234").with("since", "2026-03-14"),
        Code::BackfillDone | Code::BackfillProgress => t.with("seen", 1500i64).with("queued", 2i64),
        Code::ReconcileFound | Code::ResendQueued => t.with("count", 2i64),
        Code::Pickup | Code::NothingToShip | Code::NoQuantity | Code::NoStreet | Code::NoCity => {
            t.with("number", "1234")
        }
        Code::BadPrice => t
            .with("number", "1234")
            .with("line", 2i64)
            .with("name", "Manta chilota"),
        Code::QuantityTooLarge => t
            .with("number", "1234")
            .with("line", 2i64)
            .with("name", "Manta chilota")
            .with("quantity", 5_000_000_000i64),
        Code::NotShippable => t.with("status", "cancelled"),
        Code::WooCommerceError
        | Code::TrackingTechError
        | Code::PayloadUnreadable
        | Code::Internal => t.with("detail", "HTTP 502"),
        Code::TrackingTechRefused => t.with("status", 422i64).with("message", "Datos inválidos"),
        Code::GaveUp => t.with("hours", 72i64).with(
            "error",
            Text::new(Code::TrackingTechError).with("detail", "HTTP 503"),
        ),
        Code::ConnectionNotConnected => t.with("state", "disconnected"),
        Code::NoteStatus => t.with("status_name", "Entregado").with("tracking", "TT-9"),
        Code::TriggerStatusUnknown => t.with("slug", "pagado"),
        Code::StoreStatusesUnavailable => t.with("detail", "HTTP 503"),
    }
}

#[test]
fn every_code_renders_completely_in_every_language() {
    for &code in Code::ALL {
        let text = sample(code);
        let rendered: Vec<String> = Lang::ALL.iter().map(|&l| text.render(l)).collect();
        for (lang, r) in Lang::ALL.iter().zip(&rendered) {
            assert!(!r.trim().is_empty(), "{code:?} in {lang:?} is empty");
            // A missing parameter shows as "?"; a value may hold one itself (a URL's query).
            let wording = text
                .params
                .values()
                .fold(r.clone(), |w, value| match value {
                    Param::Str(s) if !s.is_empty() => w.replace(s.as_str(), ""),
                    _ => w,
                });
            assert!(
                !wording.contains('?'),
                "{code:?} in {lang:?} misses a parameter: {r}"
            );
            assert!(
                !r.contains(" | "),
                "{code:?} in {lang:?} has both languages: {r}"
            );
            // Every value shows, but machine states, which show as their labels.
            for (name, value) in &text.params {
                if let Param::Str(s) = value
                    && !matches!(name.as_str(), "status" | "trigger_status" | "state")
                {
                    assert!(
                        r.contains(s.as_str()),
                        "{code:?} in {lang:?} leaves out {s:?}: {r}"
                    );
                }
            }
        }
        if code != Code::Legacy {
            assert_ne!(rendered[0], rendered[1], "{code:?} is not translated");
        }
        assert_eq!(Code::parse(code.as_str()), Some(code));
        assert_eq!(
            Text::from_stored(&text.stored()),
            text,
            "{code:?} round trip"
        );
    }
}

#[test]
fn codes_are_unique() {
    let mut seen = std::collections::HashSet::new();
    for code in Code::ALL {
        assert!(seen.insert(code.as_str()), "{} twice", code.as_str());
    }
}

#[test]
fn plurals_and_numbers_follow_the_language() {
    let resent = |n: i64| Text::new(Code::ResendQueued).with("count", n);
    assert_eq!(
        resent(1).render(Lang::Es),
        "1 pedido puesto en cola de nuevo desde el panel."
    );
    assert_eq!(
        resent(2).render(Lang::Es),
        "2 pedidos puestos en cola de nuevo desde el panel."
    );
    assert_eq!(
        resent(1).render(Lang::En),
        "1 order queued again from the dashboard."
    );
    assert_eq!(
        resent(1500).render(Lang::En),
        "1,500 orders queued again from the dashboard."
    );
    let backfill = Text::new(Code::BackfillDone)
        .with("seen", 12_345i64)
        .with("queued", 1i64);
    assert_eq!(
        backfill.render(Lang::Es),
        "Carga de pedidos anteriores: 12.345 pedidos revisados y 1 en cola."
    );
    let progress = |seen: i64| {
        Text::new(Code::BackfillProgress)
            .with("seen", seen)
            .with("queued", 0i64)
    };
    assert_eq!(progress(1).render(Lang::Es), "1 pedido revisado, 0 en cola");
    assert_eq!(progress(1).render(Lang::En), "1 order seen, 0 queued");
    assert_eq!(progress(2).render(Lang::En), "2 orders seen, 0 queued");
    assert_eq!(Lang::Es.number(0), "0");
    assert_eq!(Lang::Es.number(999), "999");
    assert_eq!(Lang::Es.number(-1_234_567), "-1.234.567");
    assert_eq!(Lang::En.number(1_000), "1,000");
}

#[test]
fn merchants_read_labels_not_internal_codes() {
    let settings = sample(Code::SettingsChanged);
    let es = settings.render(Lang::Es);
    assert!(
        es.contains("«Procesando»") && !es.contains("processing") && !es.contains("true"),
        "{es}"
    );
    let en = settings.render(Lang::En);
    assert!(en.contains("“Processing”") && !en.contains("true"), "{en}");
    let status = Text::new(Code::OrderStatus)
        .with("number", "7")
        .with("status_name", "Entregado");
    assert_eq!(status.render(Lang::Es), "Pedido #7: Entregado.");
    assert_eq!(woo_status(Lang::Es, "wc-on-hold"), "En espera");
    assert_eq!(woo_status(Lang::En, "mi-estado"), "mi-estado");
}

#[test]
fn nested_texts_render_in_the_readers_language() {
    let rejected = sample(Code::OrderRejected);
    assert_eq!(
        rejected.render(Lang::En),
        "Order #1234 rejected: Order #1234 has no shipping city (comuna). Fix it in WooCommerce and send it again."
    );
    assert!(
        rejected
            .render(Lang::Es)
            .starts_with("Pedido #1234 rechazado: El pedido #1234 no tiene ciudad")
    );
}

#[test]
fn anything_else_stored_reads_as_a_legacy_text() {
    assert_eq!(
        Text::from_stored("Pedido rechazado | Order rejected"),
        Text::legacy("Pedido rechazado")
    );
    assert_eq!(
        Text::from_stored(r#"{"code":"from.a.newer.version","params":{}}"#),
        Text::legacy(r#"{"code":"from.a.newer.version","params":{}}"#)
    );
    assert_eq!(Text::legacy("x").render(Lang::En), "x");
    assert_eq!(legacy_half("solo español"), "solo español");
}

#[test]
fn the_cli_takes_the_flag_then_lang_then_spanish() {
    assert_eq!(Lang::for_cli(Some(Lang::En), Some("es_CL.UTF-8")), Lang::En);
    assert_eq!(Lang::for_cli(None, Some("en_US.UTF-8")), Lang::En);
    assert_eq!(Lang::for_cli(None, Some("es_CL.UTF-8")), Lang::Es);
    assert_eq!(Lang::for_cli(None, Some("C.UTF-8")), Lang::Es);
    assert_eq!(Lang::for_cli(None, Some("fr_FR")), Lang::Es);
    assert_eq!(Lang::for_cli(None, None), Lang::Es);
}

#[test]
fn accept_language_picks_the_best_known_language() {
    assert_eq!(
        Lang::from_accept_language("en-US,en;q=0.9,es;q=0.8"),
        Lang::En
    );
    assert_eq!(
        Lang::from_accept_language("fr, es-CL;q=0.5, en;q=0.4"),
        Lang::Es
    );
    assert_eq!(Lang::from_accept_language("de"), Lang::Es);
}

#[test]
fn shown_texts_neutralize_and_cut_values_from_outside_but_rendered_ones_keep_them() {
    let number = format!("12\u{202e}34\u{0}{}", "9".repeat(100_000));
    let reason = Text::new(Code::NoCity).with("number", number.as_str());
    let text = Text::new(Code::OrderRejected)
        .with("number", number.as_str())
        .with("reason", reason);
    for lang in Lang::ALL {
        let shown = text.shown(lang);
        assert!(
            !shown.contains(['\u{202e}', '\u{0}']),
            "{lang:?}: {shown:?}"
        );
        assert!(shown.contains("#12?34?"), "{lang:?}: {shown:?}");
        assert!(shown.contains("9…"), "{lang:?}: {shown:?}");
        // Two numbers of 40 characters and the wording, not 200,000 characters.
        assert!(shown.chars().count() < 400, "{lang:?}: {shown:?}");
        // Notes written into the store and logs keep what the store wrote.
        assert!(text.render(lang).contains(&number));
        assert_eq!(text.json(lang)["message"], shown.as_str());
    }
    // The tables' own wording, and a clean value, are untouched.
    let sample = sample(Code::OrderSent);
    assert_eq!(sample.shown(Lang::Es), sample.render(Lang::Es));
}
