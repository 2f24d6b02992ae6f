"""Scenarios 1, 2 and 5: the rules, and the FHIR mapping around them, in this process (no HTTP).

1. Rules alone: ``classify`` over every example case, cycled. Baseline: constructing the same cases
   from their case JSON (``case_from_json``), the way they are built before they are classified.
2. Mapping + rules, per patient: FHIR Bundle (already decoded) → ``read_case`` → ``classify`` →
   ``result_resources`` (the three FHIR Observations the service proposes). Baseline: ``json.loads`` of the
   same Bundle's text, the least any service must spend on that data. Measured twice: as on a *repeat call*
   (the resources were seen before, as when a chart is opened again) and at *first sight* (every resource
   new to the process: the validation cache, if there is one, is emptied before each patient).
5. Scale: scenario 2 at first sight with 1, 10, 100 and 1,000 Observations per patient, with the time
   split into fhir.resources validation, the rest of the reading, the rules and the FHIR output.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from benchmarks.data import case_document, example_names, patient_data
from benchmarks.measure import Batch, interleaved, median, ratio, time_batch
from benchmarks.options import Options
from benchmarks.report import Row, Target, fmt
from fhir_mappings.reading import case_reader, validation
from fhir_mappings.writing.results_to_fhir import result_resources
from neuroblastoma.case_json import case_from_json
from neuroblastoma.classification import classify

SCENARIO2_OBSERVATIONS = 40
SCENARIO2_TARGET_MS = 3.0
SCALE_PATIENTS = ("nb-l1-low", "nb-l2-11q", "nb-m-older", "nb-ms-infant")  # four stages, four shapes
SCALE_LINEARITY_TOLERANCE = 1.25  # cost per Observation at 1,000 may be at most 25 % above that at 100


def clear_validation_cache() -> None:
    """Empty the reader's validation cache, if the reader has one (so "first sight" is first sight)."""
    clear = getattr(validation, "clear_validation_cache", None)
    if clear is not None:
        clear()


# ---------------------------------------------------------------------------------------- scenario 1


def scenario_rules(options: Options) -> Row:
    names = example_names()
    documents = [case_document(name) for name in names]
    cases = [case_from_json(document) for document in documents]
    for case in cases:  # warm up
        classify(case)

    def run_rules() -> Batch:
        return time_batch(classify, cases, min_seconds=options.batch_seconds, max_operations=2_000_000,
                          min_operations=len(cases))

    def run_construct() -> Batch:
        return time_batch(case_from_json, documents, min_seconds=options.batch_seconds,
                          max_operations=2_000_000, min_operations=len(cases))

    pairs = interleaved(options.runs, run_rules, run_construct)
    rules_rate = median([1 / rules.per_op for rules, _ in pairs])
    build_rate = median([1 / build.per_op for _, build in pairs])
    cost_ratio = median([rules.per_op / build.per_op for rules, build in pairs])
    return Row(
        id="1", scenario="Rules alone (classify)",
        result=f"{fmt(rules_rate)} cases/s ({fmt(1e6 / rules_rate)} µs/case, {len(cases)} example cases cycled)",
        baseline=f"case_from_json: {fmt(build_rate)} cases/s ({fmt(1e6 / build_rate)} µs/case)",
        ratio=cost_ratio, ratio_label="classify / construct (cost per case)",
        metrics={"cases_per_second": rules_rate, "baseline_cases_per_second": build_rate,
                 "cases": len(cases), "runs": [{"classify_s_per_case": r.per_op, "construct_s_per_case": b.per_op}
                                               for r, b in pairs]})


# ---------------------------------------------------------------------------------------- scenario 2


@dataclass
class _PhaseClock:
    """Seconds spent per phase of the mapping pipeline, summed over the operations of one batch."""

    validation: float = 0.0
    rules: float = 0.0
    output: float = 0.0
    calls: int = 0

    def reset(self) -> None:
        self.validation = self.rules = self.output = 0.0
        self.calls = 0


@contextlib.contextmanager
def _timed_validation(clock: _PhaseClock) -> Iterator[None]:
    """Count the time ``read_case`` spends in ``validate`` (fhir.resources parsing and validation)."""
    original = validation.validate

    def timed(resource: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return original(resource)
        finally:
            clock.validation += time.perf_counter() - started

    validation.validate = timed  # type: ignore[assignment]
    try:
        yield
    finally:
        validation.validate = original  # type: ignore[assignment]


@dataclass(frozen=True)
class _Patient:
    patient_id: str
    bundle: dict[str, Any]
    text: str  # the Bundle as JSON text (for the baseline)
    observations: int


def _patients(names: list[str] | tuple[str, ...], observations: int) -> list[_Patient]:
    patients = []
    for name in names:
        data = patient_data(name, observations)
        bundle = data.bundle()
        patients.append(_Patient(data.patient_id, bundle, json.dumps(bundle), len(data.observations)))
    return patients


def _pipeline(clock: _PhaseClock, now: datetime, *, first_sight: bool) -> Callable[[_Patient], object]:
    def run(patient: _Patient) -> object:
        if first_sight:
            clear_validation_cache()
        reading = case_reader.read_case([patient.bundle], patient.patient_id)
        started = time.perf_counter()
        result = classify(reading.case)
        classified = time.perf_counter()
        resources = result_resources(result, reading, now)
        clock.output += time.perf_counter() - classified
        clock.rules += classified - started
        clock.calls += 1
        return resources
    return run


@dataclass
class MappingRun:
    batch: Batch
    validation_share: float
    phases_ms: dict[str, float] = field(default_factory=dict)


def _measure_mapping(patients: list[_Patient], options: Options, *, first_sight: bool,
                     runs: int | None = None, min_operations: int | None = None,
                     ) -> list[tuple[MappingRun, Batch]]:
    clock = _PhaseClock()
    now = datetime.now(UTC)
    pipeline = _pipeline(clock, now, first_sight=first_sight)
    texts = [patient.text for patient in patients]
    for patient in patients:  # warm up (and, for repeat calls, see every resource once)
        pipeline(patient)

    def run_mapping() -> MappingRun:
        clock.reset()
        with _timed_validation(clock):
            batch = time_batch(pipeline, patients, min_seconds=options.batch_seconds, max_operations=100_000,
                               min_operations=min_operations or len(patients))
        per_op_ms = 1000 / batch.operations
        phases = {"validation": clock.validation * per_op_ms, "rules": clock.rules * per_op_ms,
                  "fhir_output": clock.output * per_op_ms}
        phases["reading_other"] = batch.per_op * 1000 - sum(phases.values())
        return MappingRun(batch, clock.validation / batch.seconds, phases)

    def run_baseline() -> Batch:
        return time_batch(json.loads, texts, min_seconds=options.batch_seconds / 4, max_operations=1_000_000,
                          min_operations=len(texts))

    return interleaved(runs or options.runs, run_mapping, run_baseline)


def scenario_mapping(options: Options) -> Row:
    patients = _patients(example_names(), SCENARIO2_OBSERVATIONS)
    repeat = _measure_mapping(patients, options, first_sight=False)
    first = _measure_mapping(patients, options, first_sight=True)
    repeat_ms = median([run.batch.per_op * 1000 for run, _ in repeat])
    first_ms = median([run.batch.per_op * 1000 for run, _ in first])
    repeat_share = median([run.validation_share for run, _ in repeat])
    first_share = median([run.validation_share for run, _ in first])
    baseline_ms = median([base.per_op * 1000 for _, base in repeat + first])
    cost_ratio = median([run.batch.per_op / base.per_op for run, base in repeat])
    first_ratio = median([run.batch.per_op / base.per_op for run, base in first])
    cached = hasattr(validation, "clear_validation_cache")
    return Row(
        id="2", scenario=f"Mapping + rules, {SCENARIO2_OBSERVATIONS}-Observation Bundle",
        result=(f"repeat call {fmt(repeat_ms)} ms/patient ({fmt(repeat_share * 100, 2)} % in fhir.resources "
                f"validation); first sight {fmt(first_ms)} ms ({fmt(first_share * 100, 2)} %)"),
        baseline=f"json.loads of the Bundle: {fmt(baseline_ms)} ms",
        ratio=cost_ratio, ratio_label=f"repeat / json.loads (first sight {fmt_ratio_plain(first_ratio)})",
        targets=[Target(f"≤ {SCENARIO2_TARGET_MS:g} ms repeat call", repeat_ms <= SCENARIO2_TARGET_MS),
                 Target(f"≤ {SCENARIO2_TARGET_MS:g} ms first sight", first_ms <= SCENARIO2_TARGET_MS)],
        metrics={
            "ms_per_patient_repeat": repeat_ms, "ms_per_patient_first_sight": first_ms,
            "validation_share_repeat": repeat_share, "validation_share_first_sight": first_share,
            "baseline_json_loads_ms": baseline_ms, "ratio_first_sight": first_ratio,
            "phases_ms_repeat": _median_phases([run for run, _ in repeat]),
            "phases_ms_first_sight": _median_phases([run for run, _ in first]),
            "patients": len(patients), "validation_cache": cached,
        },
        note="" if cached else "no validation cache: repeat call = first sight")


def fmt_ratio_plain(value: float) -> str:
    return f"{fmt(value)}×"


def _median_phases(runs: list[MappingRun]) -> dict[str, float]:
    return {key: median([run.phases_ms[key] for run in runs]) for key in runs[0].phases_ms}


# ---------------------------------------------------------------------------------------- scenario 5


def scenario_scale(options: Options) -> Row:
    points = []
    for size in options.scale_sizes:
        patients = _patients(SCALE_PATIENTS, size)
        runs = max(3, options.runs // 2) if size >= 1000 else options.runs
        pairs = _measure_mapping(patients, options, first_sight=True, runs=runs)
        ms = median([run.batch.per_op * 1000 for run, _ in pairs])
        points.append({
            "observations": size,
            "ms_per_patient": ms,
            "ms_per_observation": ms / size,
            "baseline_json_loads_ms": median([base.per_op * 1000 for _, base in pairs]),
            "ratio_to_json_loads": median([run.batch.per_op / base.per_op for run, base in pairs]),
            "phases_ms": _median_phases([run for run, _ in pairs]),
        })
    by_size = {p["observations"]: p for p in points}
    growth = ratio(by_size[1000]["ratio_to_json_loads"], by_size[100]["ratio_to_json_loads"]) \
        if 1000 in by_size and 100 in by_size else float("nan")
    per_obs = ratio(by_size[1000]["ms_per_observation"], by_size[100]["ms_per_observation"]) \
        if 1000 in by_size and 100 in by_size else float("nan")
    linear = None if math.isnan(per_obs) else per_obs <= SCALE_LINEARITY_TOLERANCE
    sizes = " / ".join(f"{p['observations']}: {fmt(p['ms_per_patient'])}" for p in points)
    biggest = points[-1]
    split = ", ".join(f"{key.replace('_', ' ')} {fmt(value / biggest['ms_per_patient'] * 100, 2)} %"
                      for key, value in biggest["phases_ms"].items())
    return Row(
        id="5", scenario="Scale: scenario 2 (first sight) by Observations per patient",
        result=f"ms/patient {sizes}; at {biggest['observations']}: {split}",
        baseline="json.loads of the same Bundles: " + " / ".join(
            f"{p['observations']}: {fmt(p['baseline_json_loads_ms'])}" for p in points) + " ms",
        ratio=growth, ratio_label="(cost / json.loads) at 1,000 ÷ at 100; 1 = linear",
        targets=[Target(f"linear or better (ms per Observation 100 → 1,000 ≤ {SCALE_LINEARITY_TOLERANCE:g}×: "
                        f"{fmt(per_obs)}×)", linear)],
        metrics={"points": points, "patients": list(SCALE_PATIENTS), "per_observation_growth_100_1000": per_obs})
