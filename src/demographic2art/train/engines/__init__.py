"""Engines that run the training runs of a sweep: ``local`` (this machine) and ``ray`` (Ray Tune).

Every engine takes the workspace and the planned :class:`~demographic2art.train.TrainConfig`
list and returns one outcome per run: a dict with ``run``, ``status`` (``ok`` or
``failed``), ``error``, ``attempts`` and ``worker`` (where it ran). Losses are read back
from each run's ``summary.json`` by the sweep, so engines only need to run ``train_lora``.
"""
