"""`f1 simulate` and `f1 replay`: the simulator's command-line entry points."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from streaming.errors import ConfigError
from streaming.settings import Settings
from streaming.simulator.faults import FaultRates
from streaming.simulator.race import RaceConfig
from streaming.simulator.track import monza


def _speed(args) -> float:
    return 0.0 if args.fast else args.speed


def _apply_defaults(s: Settings, args) -> None:
    """Flags not given take the SIMULATOR_* settings."""
    for flag, value in (
        ("cars", s.simulator_cars),
        ("laps", s.simulator_laps),
        ("seed", s.simulator_seed),
        ("speed", s.simulator_speed),
        ("encoding", s.simulator_encoding),
        ("faults", s.simulator_faults),
    ):
        if getattr(args, flag) is None:
            setattr(args, flag, value)


def _start_time_ns(args, laps: int) -> int:
    """Real time starts now; faster runs start in the past, so that no event time lies in the future."""
    if args.start_time:
        try:
            when = dt.datetime.fromisoformat(args.start_time.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(
                [f"--start-time={args.start_time!r}: expected an ISO time, e.g. 2026-09-06T13:00Z"]
            ) from None
        return int(when.replace(tzinfo=when.tzinfo or dt.UTC).timestamp() * 1e9)
    now_ns = time.time_ns()
    if _speed(args) == 1.0:
        return now_ns
    duration_s = monza().reference_lap_time_s() * 1.3 * laps + 120
    return now_ns - int(duration_s * 1e9)


def add_simulate_parser(sub) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate a race and stream its telemetry into Kafka",
        description="Simulate a race at Monza and stream every car's telemetry into Kafka. Defaults come "
        "from the SIMULATOR_* settings (see .env.example).",
    )
    p.add_argument("--cars", type=int, help="cars on the grid (SIMULATOR_CARS, default 50)")
    p.add_argument("--laps", type=int, help="race distance in laps (SIMULATOR_LAPS, default 53)")
    p.add_argument(
        "--seed", type=int, help="the same seed and start time give the same events (SIMULATOR_SEED)"
    )
    p.add_argument(
        "--speed", type=float, help="1 real time, N times faster, 0 as fast as possible (SIMULATOR_SPEED)"
    )
    p.add_argument("--fast", action="store_true", help="as fast as possible (benchmarks, backfills)")
    p.add_argument("--encoding", choices=("protobuf", "json"), help="SIMULATOR_ENCODING, default protobuf")
    p.add_argument("--faults", help="fault rates, e.g. duplicate=0.01,late=0.001 (SIMULATOR_FAULTS)")
    p.add_argument(
        "--start-time", help="session start (ISO 8601, UTC); default: now, or in the past if faster"
    )
    p.add_argument("--record", type=Path, help="also write every record to this recording file")
    p.add_argument(
        "--truth", type=Path, help="ground-truth JSON (default: <state>/runs/<session>/truth.json)"
    )
    p.add_argument("--no-kafka", action="store_true", help="only record (needs --record)")
    p.add_argument("--loop", action="store_true", help="race after race, seed +1 each (the make-up service)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_simulate)


def add_replay_parser(sub) -> None:
    p = sub.add_parser(
        "replay",
        help="replay a recording into Kafka, byte for byte",
        description="Replay a recording made with `f1 simulate --record` into Kafka.",
    )
    p.add_argument("recording", type=Path)
    p.add_argument("--speed", type=float, default=1.0, help="1 real time, N times faster (default 1)")
    p.add_argument("--fast", action="store_true", help="as fast as possible")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_replay)


def cmd_simulate(s: Settings, args) -> int:
    from streaming.clients.registration import schema_ids

    _apply_defaults(s, args)
    try:
        faults = FaultRates.parse(args.faults)
    except ValueError as error:
        raise ConfigError([f"--faults: {error}"]) from None
    if args.no_kafka and not args.record:
        raise ConfigError(["--no-kafka needs --record FILE: the events must go somewhere"])
    if not 1 <= args.laps <= 120:
        raise ConfigError([f"--laps={args.laps}: expected 1 to 120"])
    if args.loop and (args.record or args.truth or args.start_time):
        raise ConfigError(["--loop starts every race now: it takes no --record, --truth or --start-time"])
    ids = schema_ids(s)
    seed = args.seed
    while True:
        code = _simulate_one(s, args, ids, seed, faults)
        if not args.loop or code != 0:
            return code
        seed += 1


def _simulate_one(s: Settings, args, ids: dict[str, int], seed: int, faults: FaultRates) -> int:
    from streaming.clients.kafka_admin import require_kafka
    from streaming.simulator.display import progress_display
    from streaming.simulator.runner import KafkaSink, Progress, StopFlag, simulate

    config = RaceConfig(
        cars=args.cars, laps=args.laps, seed=seed, start_time_ns=_start_time_ns(args, args.laps)
    )
    truth = args.truth or s.f1_state_dir / "runs" / config.session_id / "truth.json"
    sink = None
    if not args.no_kafka:
        require_kafka(s)
        sink = KafkaSink(s)
    progress = Progress()
    display = progress_display(progress, f"simulate {config.session_id}", False if args.quiet else None)
    with StopFlag() as stop, display:
        result = simulate(
            config,
            ids,
            sink,
            encoding=args.encoding,
            faults=faults,
            speed=_speed(args),
            recording=args.record,
            truth_path=truth,
            progress=progress,
            stop=stop,
        )
    rate = result.records_sent / max(result.seconds, 1e-9)
    state = "stopped" if result.stopped_early else "finished"
    volume = f"{result.records_sent:,} records, {result.bytes_sent / 1e6:,.1f} MB"
    print(
        f"{state}: {result.session_id}: {result.events:,} events, {volume} in {result.seconds:.1f} s "
        f"({rate:,.0f}/s)",
        flush=True,
    )
    print(f"ground truth: {result.truth_path}", flush=True)
    if result.recording_path:
        print(f"recording: {result.recording_path}", flush=True)
    return 130 if result.stopped_early else 0


def cmd_replay(s: Settings, args) -> int:
    from streaming.clients.kafka_admin import require_kafka
    from streaming.clients.registration import schema_ids
    from streaming.simulator.display import progress_display
    from streaming.simulator.runner import KafkaSink, Progress, StopFlag, replay

    if not args.recording.is_file():
        raise ConfigError([f"recording {args.recording} does not exist"])
    require_kafka(s)
    progress = Progress()
    started = time.monotonic()
    with (
        StopFlag() as stop,
        progress_display(progress, f"replay {args.recording.name}", None if not args.quiet else False),
    ):
        sent = replay(
            args.recording,
            KafkaSink(s),
            speed=_speed(args),
            progress=progress,
            stop=stop,
            expected_schema_ids=schema_ids(s),
        )
    elapsed = time.monotonic() - started
    print(f"replayed {sent:,} records in {elapsed:.1f} s ({sent / max(elapsed, 1e-9):,.0f} records/s)")
    return 130 if stop.is_set() else 0
