//! WooCommerce REST v3 client, webhook verification and wc-auth.
