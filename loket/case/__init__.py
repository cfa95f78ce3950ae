"""The pure case core: ``Case`` (operations), ``CaseState`` (one serializable value),
refusals with codes, and the records each change makes. No I/O, no Temporal."""
