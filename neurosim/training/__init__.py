"""Training: ``train`` (gradient descent), ``slow_learn`` (the chapter's slow learner) and
``train_many`` (many networks at once), sharing one epoch loop (:mod:`.loop`) and the
result types of :mod:`.history`.
"""
from .history import DivergenceError, History, ManyHistory, Records
from .many import train_many
from .slow import passes, passes_to_reach, progress, slow_learn
from .train import prepare, train

__all__ = ["train", "train_many", "slow_learn", "prepare", "History", "ManyHistory", "Records",
           "DivergenceError", "passes", "passes_to_reach", "progress"]
