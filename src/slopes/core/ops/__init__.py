"""The primitive operations of slopes, each with its forward, reverse and batching rules."""
