"""The ``sdk`` command line.

Sub-commands are registered by import path and imported only when invoked, so
``sdk --help`` never imports TensorFlow, LiteRT or Flask (a test checks this).
Adding a command = one module under ``sdk/commands/`` + one line in ``COMMANDS``.
"""

from __future__ import annotations

import importlib
import os

import click

from sdk import __version__

# name -> (module:attribute, one-line help shown by `sdk --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("sdk.commands.data:data", "Create, convert and check detection datasets."),
    "train": ("sdk.commands.train:train", "Train the Fast or Accurate detector."),
    "eval": ("sdk.commands.evaluate:evaluate", "COCO mAP of a model on a dataset split."),
    "bench": ("sdk.commands.bench:bench", "Run the standardized device benchmark (and submit)."),
    "recommend": ("sdk.commands.recommend:recommend",
                  "Most accurate model variant meeting an FPS budget on a device."),
    # Commands of the sibling packages are named by string only: sdk never imports them.
    "export": ("exporters.cli:export", "Export a detector to TFLite, TF.js, CoreML or SavedModel."),
    "import": ("importers.cli:import_", "Import a detector trained elsewhere (SavedModel, TF.js)."),
    "serve": ("web_demo.cli:serve", "Serve the web demo: live detection on a phone, benchmarks."),
}


# Commands that never load TensorFlow or LiteRT, so their output needs no filtering (the
# server's worker processes must not depend on a filter thread of the arbiter).
UNFILTERED = frozenset({"serve"})

# TensorFlow prints pages of CUDA/oneDNN chatter on a CPU machine; keep real errors only.
# Set before any sub-command imports it (sdk.commands.quiet does the rest).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in UNFILTERED:
            from sdk.commands.quiet import install

            install()
        module_name, attr = COMMANDS[cmd_name][0].split(":")
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sdk")
def main() -> None:
    """Train object detectors and take them to phones and browsers.

    \b
    Typical flow:
      sdk data synth --out data/synth      # or bring COCO / YOLO / VOC data
      sdk train --arch fast --data data/synth --out runs/fast
      sdk eval --model runs/fast --data data/synth --split test
    """


if __name__ == "__main__":  # pragma: no cover
    main()
