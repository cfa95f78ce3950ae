"""What-if simulation of the mall's counters: many applications routed by the real routing
core (:class:`loket.route.stepper.Stepper`) through counters with limited staff, on the
working timeline of :class:`loket.calendar.WorkCalendar`. See ``docs/simulation.md``.

Pure: the engine takes parsed scenarios, a calendar and a seed, and returns results; the
CLI reads files, queries the read model and writes reports.
"""
