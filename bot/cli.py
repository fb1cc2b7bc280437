"""The `salesbot` command. Sub-commands live beside the code they drive and load only when called,
so `salesbot promptpay` does not pay for loading the sentence encoder."""
from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click command or group
COMMANDS = {
    "db": "bot.commands.db:db",
    "catalog": "shop.cli:catalog",
    "search": "shop.cli:search",
    "stock": "shop.cli:stock",
    "orders": "bot.commands.orders:orders",
    "customers": "bot.commands.customers:customers",
    "handoff": "bot.commands.handoff:handoff",
    "eval": "bot.commands.eval:eval_group",
    "line": "bot.commands.line:line",
    "serve": "bot.commands.service:serve",
    "dev": "bot.commands.dev:dev",
    "worker": "bot.commands.service:worker",
    "promptpay": "payments.cli:promptpay",
    "slip": "bot.commands.slip:slip",
    "staff": "bot.commands.staff:staff",
    "mcp": "agent.cli:mcp",
    "export": "agent.cli:export",
    "simulator": "simulator.cli:simulator",
    "inference": "inference.cli:inference",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)


@click.group(cls=LazyGroup)
def main() -> None:
    """salesbot: LINE shopping assistant for Thai board-game shops."""


if __name__ == "__main__":
    main()
