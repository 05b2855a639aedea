"""Datasets for the pipeline: load, detect what they hold, extract prompts, normalise, save.

Heavy libraries (datasets, pyarrow) are imported only where a function needs them.
"""

from .detect import Detection, detect
from .extract import Extraction, extract_prompt, extract_prompts
from .load import SAMPLES, Table, column_types, load_file, load_hub, load_sample, load_source, max_file_bytes
from .prepare import Prepared, prepare
from .store import dataset_path, list_datasets, read_dataset, save_dataset, write_prepared

__all__ = ["SAMPLES", "Detection", "Extraction", "Prepared", "Table", "column_types", "dataset_path", "detect",
           "extract_prompt", "extract_prompts", "list_datasets", "load_file", "load_hub", "load_sample",
           "load_source", "max_file_bytes", "prepare", "read_dataset", "save_dataset", "write_prepared"]
