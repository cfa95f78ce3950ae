"""Reading a scenario file and everything it names (the I/O side of the simulator).

A scenario names permit types by catalog id (``permit: PBG``, from the definitions folder)
or by file (``file: ../drafts/pbg-simplified.yaml``, relative to the scenario file, checked
against the catalog's agencies like ``loket validate`` does). The calendar is the
definitions folder's ``calendar.yaml`` for every year it covers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from loket.calendar import WorkCalendar
from loket.calendar_data import covered_years, load_calendar
from loket.route.loader import (
    DefinitionError,
    DefinitionErrors,
    _pydantic_errors,
    load_agencies,
    load_catalog,
    load_permit,
    read_yaml,
)
from loket.route.model import PermitType
from loket.simulation.distributions import Distribution
from loket.simulation.engine import PermitModel, build_model
from loket.simulation.scenario import Scenario
from loket.simulation.timeline import Timeline


@dataclass
class LoadedScenario:
    path: Path
    scenario: Scenario
    models: list[PermitModel]


def read_scenario(path: Path) -> Scenario:
    data, errors = read_yaml(path, str(path))
    if errors:
        raise DefinitionErrors(errors)
    if not isinstance(data, dict):
        raise DefinitionErrors([DefinitionError(str(path), "", "expected a mapping")])
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise DefinitionErrors(_pydantic_errors(str(path), exc)) from None


def load_scenario(
    path: Path,
    definitions_dir: Path,
    overrides: Mapping[tuple[str, str], Distribution] | None = None,
) -> LoadedScenario:
    """The scenario with its permit types resolved and checked; raises
    :class:`DefinitionErrors` or :class:`~loket.simulation.engine.ScenarioError`."""
    scenario = read_scenario(path)
    agencies, errors = load_agencies(definitions_dir)
    if agencies is None:
        raise DefinitionErrors(errors)
    catalog = None
    models: list[PermitModel] = []
    for i, load in enumerate(scenario.permits):
        permit: PermitType | None
        if load.file is not None:
            file = (path.parent / load.file).resolve()
            permit, errors = load_permit(file, agencies, load.file)
            if permit is None:
                raise DefinitionErrors(errors)
        else:
            catalog = catalog or load_catalog(definitions_dir)
            permit = catalog.permits.get(load.permit or "")
            if permit is None:
                known = ", ".join(sorted(catalog.permits))
                raise DefinitionErrors(
                    [
                        DefinitionError(
                            str(path),
                            f"permits[{i}].permit",
                            f"unknown permit type '{load.permit}' (known: {known})",
                        )
                    ]
                )
        if any(m.permit.id == permit.id for m in models):
            raise DefinitionErrors(
                [DefinitionError(str(path), f"permits[{i}]", f"{permit.id} is listed twice")]
            )
        models.append(build_model(load, permit, overrides))
    return LoadedScenario(path, scenario, models)


def scenario_timeline(scenario: Scenario, definitions_dir: Path) -> Timeline:
    calendar = WorkCalendar(load_calendar(definitions_dir, *covered_years(definitions_dir)))
    return Timeline(calendar, scenario.start, scenario.working_days + scenario.drain_working_days)
