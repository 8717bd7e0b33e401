"""``python -m app.config [check|show] [PATH]``: the resources commands without Flask."""

from app.config.command import resources_command

resources_command(prog_name="python -m app.config")
