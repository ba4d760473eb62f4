"""Offline checks of a Compose file for session-context; run by scripts/check-compose.

1. The file validates against the Compose Specification's JSON schema (a local copy; the
   validator class is the one the schema's "$schema" names, e.g. draft 2020-12).
2. Every environment variable set on the worker service (`environment`, and the files named by
   `env_file`) is one that `session-context serve` reads: a "SESSION_CONTEXT_*" or "REDIS_URL"
   string literal in Sources/session-context/ServeCommand.swift.
3. Local files the Compose file points at exist: build contexts and Dockerfiles, bind-mount
   sources given as relative or absolute paths.
4. A SESSION_CONTEXT_JWT_SECRET given as a literal or as a `${VAR:-default}` default is at least
   32 bytes (the worker refuses to start otherwise).

Exit status 0 with one summary line when everything holds, 1 with one line per problem.
Needs PyYAML and jsonschema (>= 4.18).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
from typing import Any

import jsonschema
import yaml

MIN_JWT_SECRET_BYTES = 32
ENV_NAME = re.compile(r'"((?:SESSION_CONTEXT_[A-Z0-9_]+)|REDIS_URL)"')


class UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that rejects duplicate mapping keys (PyYAML keeps the last one silently;
    Docker Compose rejects them)."""


def _construct_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"found duplicate key {key!r}", key_node.start_mark)
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)


def path_text(path: Any) -> str:
    parts = [str(part) for part in path]
    return ".".join(parts) if parts else "(top level)"


def schema_problems(document: Any, schema: dict) -> list[str]:
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    # No format checker: the Compose schema's formats ("duration", "ports", ...) are Compose's
    # own notations, which the JSON Schema format checkers do not know.
    validator = validator_class(schema)
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]):
        # For an anyOf/oneOf failure the most relevant sub-error says more.
        best = jsonschema.exceptions.best_match([error])
        message = best.message if best is not None else error.message
        problems.append(f"schema: {path_text(best.absolute_path if best else error.absolute_path)}: {message}")
    return problems


def variables_read_by_worker(serve_command: str) -> set[str]:
    with open(serve_command, encoding="utf-8") as handle:
        return set(ENV_NAME.findall(handle.read()))


def env_file_entries(compose_dir: str, env_file: Any) -> tuple[list[tuple[str, str | None, str]], list[str]]:
    """(name, value, where) of every variable in the env files, and problems."""
    entries: list[tuple[str, str | None, str]] = []
    problems: list[str] = []
    files = env_file if isinstance(env_file, list) else [env_file]
    for item in files:
        if isinstance(item, dict):
            path, required = item.get("path"), item.get("required", True)
        else:
            path, required = item, True
        full = os.path.join(compose_dir, str(path))
        if not os.path.isfile(full):
            if required not in (False, "false"):
                problems.append(f"env_file {path}: no such file")
            continue
        with open(full, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                if line.startswith("export "):
                    line = line[len("export "):].lstrip()
                name, sep, value = line.partition("=")
                entries.append((name.strip(), value if sep else None, f"env_file {path}:{number}"))
    return entries, problems


def environment_entries(service: dict) -> list[tuple[str, str | None, str]]:
    environment = service.get("environment")
    if isinstance(environment, dict):
        return [(str(k), None if v is None else str(v), "environment") for k, v in environment.items()]
    if isinstance(environment, list):
        result = []
        for item in environment:
            name, sep, value = str(item).partition("=")
            result.append((name, value if sep else None, "environment"))
        return result
    return []


def interpolation_default(value: str) -> str | None:
    """The literal a Compose value stands for when no variable is set: the value itself when it
    has no interpolation, the default of a lone `${VAR:-default}` / `${VAR-default}`, else None."""
    if "$" not in value.replace("$$", ""):
        return value.replace("$$", "$")
    match = re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-(.*)\}", value)
    return match.group(1) if match else None


def env_problems(document: dict, service_name: str, compose_dir: str, known: set[str]) -> tuple[list[str], int]:
    services = document.get("services") or {}
    service = services.get(service_name)
    if not isinstance(service, dict):
        return [f"env: no service named {service_name!r} (services: {', '.join(sorted(services)) or 'none'})"], 0
    entries = environment_entries(service)
    problems: list[str] = []
    if "env_file" in service:
        more, file_problems = env_file_entries(compose_dir, service["env_file"])
        entries += more
        problems += file_problems
    names = set()
    for name, value, where in entries:
        names.add(name)
        if name not in known:
            hint = difflib.get_close_matches(name, sorted(known), n=1)
            problems.append(
                f"env: services.{service_name}.{where}: {name} is not read by the worker"
                + (f" (did you mean {hint[0]}?)" if hint else ""))
        if name == "SESSION_CONTEXT_JWT_SECRET" and value is not None:
            literal = interpolation_default(value)
            if literal is not None and len(literal.encode()) < MIN_JWT_SECRET_BYTES:
                problems.append(
                    f"env: services.{service_name}.{where}: SESSION_CONTEXT_JWT_SECRET defaults to "
                    f"{len(literal.encode())} bytes; the worker needs at least {MIN_JWT_SECRET_BYTES}")
    return problems, len(names)


def path_problems(document: dict, compose_dir: str) -> list[str]:
    problems = []
    for name, service in (document.get("services") or {}).items():
        if not isinstance(service, dict):
            continue
        build = service.get("build")
        if isinstance(build, (str, dict)):
            context = build if isinstance(build, str) else build.get("context", ".")
            if "://" not in str(context) and "$" not in str(context):
                context_dir = os.path.join(compose_dir, str(context))
                if not os.path.isdir(context_dir):
                    problems.append(f"services.{name}.build.context: {context} is not a directory")
                elif isinstance(build, dict) and "dockerfile_inline" not in build:
                    dockerfile = os.path.join(context_dir, str(build.get("dockerfile", "Dockerfile")))
                    if not os.path.isfile(dockerfile):
                        problems.append(f"services.{name}.build.dockerfile: {build.get('dockerfile', 'Dockerfile')} not found in {context}")
        for volume in service.get("volumes") or []:
            source = None
            if isinstance(volume, str):
                head, sep, _ = volume.partition(":")
                source = head if sep else None
            elif isinstance(volume, dict) and volume.get("type") == "bind":
                source = volume.get("source")
            if source and source.startswith((".", "/")) and "$" not in source:
                if not os.path.exists(os.path.join(compose_dir, source)):
                    problems.append(f"services.{name}.volumes: bind-mount source {source} does not exist")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("compose", help="the Compose file to check")
    parser.add_argument("--schema", required=True, help="the Compose Specification JSON schema")
    parser.add_argument("--serve-command", required=True, help="Sources/session-context/ServeCommand.swift")
    parser.add_argument("--service", default="worker", help="the service that runs session-context serve")
    args = parser.parse_args()

    try:
        document = load_yaml(args.compose)
    except (OSError, yaml.YAMLError) as error:
        print(f"{args.compose}: cannot read it as YAML: {error}", file=sys.stderr)
        return 1
    if not isinstance(document, dict):
        print(f"{args.compose}: the top level is not a mapping", file=sys.stderr)
        return 1
    with open(args.schema, encoding="utf-8") as handle:
        schema = json.load(handle)
    known = variables_read_by_worker(args.serve_command)
    if "REDIS_URL" not in known or not any(name.startswith("SESSION_CONTEXT_") for name in known):
        print(f"{args.serve_command}: found no SESSION_CONTEXT_* / REDIS_URL names; has the file moved?", file=sys.stderr)
        return 1

    compose_dir = os.path.dirname(os.path.abspath(args.compose))
    problems = schema_problems(document, schema)
    env, count = env_problems(document, args.service, compose_dir, known)
    problems += env
    problems += path_problems(document, compose_dir)
    if problems:
        print(f"{args.compose}: {len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    services = len(document.get("services") or {})
    print(f"compose: valid against compose-spec schema ({services} services); "
          f"env vars: {count} set, all read by the worker")
    return 0


if __name__ == "__main__":
    sys.exit(main())
