"""mintlane.distributed: a token pool's partitions on Dask workers (``pip install mintlane[distributed]``).

The job is the one :mod:`mintlane.bulk` runs locally: the same plan, the same partition function
(:func:`mintlane.bulk.partition_rows`) and the same :func:`mintlane.bulk.write_part`, submitted as
one task per pending part. Each worker writes its own part file into the shared output directory
(temporary name, fsync, then linked into place: the first finished attempt wins, so retries and
tasks re-run after a lost worker are safe); this process records every finished part in
``manifest.json`` as it arrives, so an interrupted job resumes where it stopped.

    >>> from dask.distributed import Client
    >>> from mintlane import bulk, distributed
    >>> client = Client("tcp://scheduler:8786")
    >>> spec = bulk.Generator(channels=1_000, users_per_channel=10_000, publishers="10%")
    >>> distributed.write_pool(client, spec, "/shared/pool", partitions=64, app_id=..., app_certificate=...)

The output directory must be visible to every worker at the same path (one machine, NFS, ...).
By default the credentials travel with the tasks (use TLS between Dask processes off-machine);
``credentials_from_worker_env=True`` makes workers read APP_ID/APP_CERTIFICATE themselves.
"""
from __future__ import annotations

import argparse
import time
from typing import Any, Dict, List, Optional

from mintlane import bulk

__all__ = ["write_pool", "run_plan", "local_cluster"]


def _worker_threads(client: Any) -> int:
    try:
        return max(1, sum(client.nthreads().values()))
    except Exception:  # pragma: no cover - a scheduler without workers yet
        return 1


def run_plan(client: Any, job: "bulk._Job", plan: Dict[str, Any], *, force: bool = False, progress: bool = False,
             retries: int = 3) -> bulk.Summary:
    """Submits the plan's pending parts to `client` and keeps the manifest up to date."""
    from dask.distributed import as_completed

    spec = plan["spec"]
    started = time.perf_counter()
    manifest, pending = bulk.prepare_parts(plan, force)
    bar = bulk._Progress(sum(c - b for b, c in (bulk.partition_rows(spec["count"], spec["partitions"], i)
                                                for i in pending)), progress)
    tag = plan["spec_sha256"][:16]
    futures = [client.submit(bulk.write_part, plan, i, key=f"mintlane-part-{tag}-{i}-{time.time_ns()}",
                             retries=retries, pure=False) for i in pending]
    minted = 0
    try:
        for fut in as_completed(futures):
            entry = fut.result()  # a task's exception is raised here
            manifest.add(entry)
            minted += entry["count"]
            bar(entry["count"])
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    finally:
        bar.close()
    return job.summary(plan, manifest, minted, len(pending), time.perf_counter() - started,
                       workers=len(client.scheduler_info().get("workers", {})))


def write_pool(client: Any, source: "bulk.Source", output: str, *, partitions: Optional[int] = None,
               threads: int = 1, retries: int = 3, force: bool = False, progress: bool = False,
               credentials_from_worker_env: bool = False, report_bad: Optional[Any] = None,
               **options: Any) -> bulk.Summary:
    """Mints a partitioned pool on the Dask cluster behind `client`.

    ``partitions`` defaults to twice the cluster's worker threads; each task mints with
    ``threads`` engine threads (1: one Dask thread, one core). Other options are those of
    :func:`mintlane.bulk.write_pool` (app_id, app_certificate, format, gzip, gzip_level,
    issue_ts, salt_seed, vegeta_*...).
    """
    job = bulk._Job(source, output, report_bad=report_bad)
    options.setdefault("chunk_rows", bulk.DEFAULT_TASK_CHUNK_ROWS)
    plan = job.plan(partitions=partitions or 2 * _worker_threads(client), threads=threads,
                    credentials_in_plan=not credentials_from_worker_env, **options)
    return run_plan(client, job, plan, force=force, progress=progress, retries=retries)


def local_cluster(n_workers: int) -> Any:
    """A LocalCluster of `n_workers` processes with one thread each, every port on 127.0.0.1 (the
    scheduler's HTTP endpoint on a free port)."""
    from dask.distributed import LocalCluster

    return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                        dashboard_address="127.0.0.1:0", host="127.0.0.1")


def run_cli(job: "bulk._Job", args: argparse.Namespace, options: Dict[str, Any], progress: bool) -> bulk.Summary:
    """`mintlane bulk --scheduler ADDR | --dask-local N`."""
    import logging

    from mintlane.cli import CliError

    try:
        from dask.distributed import Client
    except ImportError:
        raise CliError("Dask is not installed: pip install 'mintlane[distributed]'") from None
    logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster = None
    closers: List[Any] = []
    try:
        if args.dask_local is not None:
            cluster = local_cluster(args.dask_local)
            closers.append(cluster)
            client = Client(cluster)
        else:
            try:
                client = Client(args.scheduler, timeout="20s")
            except (OSError, TimeoutError) as e:
                raise CliError(f"--scheduler {args.scheduler}: cannot connect ({e})") from None
        closers.insert(0, client)
        plan = job.plan(partitions=args.partitions or 2 * _worker_threads(client), threads=args.threads or 1,
                        chunk_rows=args.chunk_rows or bulk.DEFAULT_TASK_CHUNK_ROWS,
                        credentials_in_plan=not args.credentials_from_worker_env, **options)
        return run_plan(client, job, plan, force=args.force, progress=progress)
    finally:
        for c in closers:
            try:
                c.close()
            except Exception:  # pragma: no cover - best effort on the way out
                pass
