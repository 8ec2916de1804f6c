"""The ``syndicate`` command: parse arguments, call the step modules, print results.

One module per command group (``pipeline``: collect, build, status, run,
jobs, health, serve, worker; ``digest_commands``: digest; ``subscriber_commands``:
subscribers; ``bounce_commands``; ``template_commands``; ``store_commands``;
``init_command``); what they share is in ``context``. Nothing outside this package imports from it.
"""

from __future__ import annotations

import errno
from typing import Any, ClassVar

import click

from .. import __version__, logs
from . import pipeline
from .context import Ctx, _store_label, fatal


class LazyGroup(click.Group):
    """The root group, with some subcommands imported only when they are used.

    click's documented lazy-loading pattern: ``syndicate digest …`` imports
    the digest's modules (premailer, cssutils, …: ~0.3 s), every other command
    starts without them. Help and completion see the real commands.
    """

    lazy: ClassVar[dict[str, str]] = {}  # command name -> "module:attribute"

    def invoke(self, ctx: click.Context) -> Any:
        """Every command: an exception nothing else handled is one line and exit 1."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, EOFError):
            raise  # click's own: usage errors, --help, Ctrl-D
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # output piped into `head`: click exits quietly
            fatal(exc, _store_label(ctx))
        except Exception as exc:
            fatal(exc, _store_label(ctx))

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            import importlib

            module, attr = self.lazy[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="syndicate")
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    envvar="SYNDICATE_CONFIG",
    help="Pipeline config (default: ./schedule.yaml; env SYNDICATE_CONFIG).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="warning",
    show_default=True,
    help="How much to log on stderr.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Plain lines, or one JSON object per line for log collectors.",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None, log_level: str, log_format: str) -> None:
    """Per-category RSS, Atom and JSON feeds and daily or weekly e-mail digests for a news site.

    Each step reads and writes the store, so any step can run alone:
    `syndicate collect` reads the sources, `syndicate build` writes the feeds.
    Exit codes: 0 ok, 2 some inputs were rejected (listed), 1 fatal error.
    """
    logs.setup(log_level, log_format)
    ctx.obj = Ctx(config_path)


for _command in (
    pipeline.collect,
    pipeline.status,
    pipeline.build,
    pipeline.run,
    pipeline.jobs,
    pipeline.health,
    pipeline.serve,
    pipeline.worker,
):
    main.add_command(_command)

# the digest's command groups, imported when used (see LazyGroup)
LazyGroup.lazy.update(
    digest="syndicate.cli.digest_commands:digest",
    subscribers="syndicate.cli.subscriber_commands:subscribers",
)
LazyGroup.lazy["templates"] = "syndicate.cli.template_commands:templates"  # list, eject
LazyGroup.lazy["bounces"] = "syndicate.cli.bounce_commands:bounces"  # process
LazyGroup.lazy["store"] = "syndicate.cli.store_commands:store"  # status, upgrade
LazyGroup.lazy["init"] = "syndicate.cli.init_command:init"  # a Jekyll site → schedule.yaml
