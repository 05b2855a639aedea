"""Datasets for the pipeline: load, detect what they hold, extract prompts, normalise, save.

A table passes through each module once: ``load`` reads files and the Hub, ``detect`` says
which kind of dataset it is, ``extract`` finds its prompts, ``prepare`` normalises it and
``store`` saves it in the workspace. ``formats`` is the vocabulary they share (a table, a
chat, column aliases, value types); ``prompts`` reads a saved dataset's rows and prompts
for the stages; ``drafts`` keeps a half-prepared table between UI calls.

Heavy libraries (datasets, pyarrow) are imported only where a function needs them.
"""

from .detect import Detection, detect
from .extract import Extraction, extract_prompt, extract_prompts
from .formats import Table, column_types
from .load import SAMPLES, load_file, load_hub, load_sample, load_source, max_file_bytes
from .prepare import Prepared, prepare
from .store import dataset_path, list_datasets, read_dataset, save_dataset, save_sample, write_prepared

__all__ = [
    "SAMPLES",
    "Detection",
    "Extraction",
    "Prepared",
    "Table",
    "column_types",
    "dataset_path",
    "detect",
    "extract_prompt",
    "extract_prompts",
    "list_datasets",
    "load_file",
    "load_hub",
    "load_sample",
    "load_source",
    "max_file_bytes",
    "prepare",
    "read_dataset",
    "save_dataset",
    "save_sample",
    "write_prepared",
]
