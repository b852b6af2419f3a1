"""The reference submission golf-check knows to be legal (see docs/reference_model.md)."""
