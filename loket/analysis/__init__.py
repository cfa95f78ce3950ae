"""Route analysis: what a permit type asks of applicants and agencies, read off its route.

Pure: every function takes parsed definitions and returns values; the CLI does the I/O.
Paths are not re-derived from the YAML by a second interpreter: :mod:`.walk` drives the
routing core (:class:`loket.route.stepper.Stepper`) with sample applications, so the
analysis sees exactly the steps the workflow would open.
"""
