//! A WooCommerce simulator for tests and the demo.
