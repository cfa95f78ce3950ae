"""Applicant notifications outside the case core: message templates and the transports."""
