//! TrackingTech API: wire types, an async client and its error taxonomy.
