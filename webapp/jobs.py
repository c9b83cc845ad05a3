"""Every module that declares RQ jobs (with queues.job). Importing this one registers them all,
which the worker's clock needs for the periodic ones; RQ itself imports each job by its path."""

from .services import agent_sync, dispatch, engine, recordings, scheduler, sweeps, webhooks

JOB_MODULES = (agent_sync, dispatch, engine, recordings, scheduler, sweeps, webhooks)
