"""The node: one clock, adjudicator shards, the journal, the crossbar and storage shards,
assembled over a data directory, with the commit path and whole-node recovery."""
