"""Import a benchmark action library from an .xlsx, .csv or .json file, or from the WHO Benchmarks platform's JSON
seed files (several files or a .zip of them); the formats are in the README."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from naphs.spreadsheets import ImportRefused
from planning.benchmark_platform import PlatformImported, is_platform_upload, platform_import
from planning.libraries import library_import_report
from planning.models import BenchmarkLibrary, Framework


class Command(BaseCommand):
    help = (
        "Import a benchmark action library; a library of the same name for the framework has its actions "
        "replaced. Nothing is saved when the file has any problem: each is printed with where it is."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "file",
            type=Path,
            nargs="+",
            help="An .xlsx, .csv or .json file; or the WHO Benchmarks platform's seed files, or a .zip of them.",
        )
        parser.add_argument("--framework", default="", help="Framework code, e.g. JEE3 (a JSON file may name it).")
        parser.add_argument("--name", default="", help="The library's name (a JSON file may give it).")
        parser.add_argument("--source", default="", help="Where the actions come from.")
        parser.add_argument(
            "--codes-of",
            default="",
            help="The framework whose indicator codes the file uses, e.g. JEE2, when it is not --framework: each "
            "action goes to the indicators of --framework its indicator corresponds to through the crosswalks.",
        )

    def handle(self, *args, file: list[Path], framework: str, name: str, source: str, codes_of: str, **options) -> None:
        chosen = self._framework(framework)
        keyed_by = self._framework(codes_of)
        if keyed_by is not None and chosen is None:
            raise CommandError("--codes-of needs --framework: the framework of the library the actions go into.")
        for path in file:
            if not path.is_file():
                raise CommandError(f"No such file: {path}")
        names = ", ".join(path.name for path in file)
        try:
            if is_platform_upload(path.name for path in file):
                if chosen is None:  # the platform's benchmarks follow the JEE's areas: JEE 3 unless told
                    chosen = Framework.objects.get(code="JEE3")
                handles = [path.open("rb") for path in file]
                try:
                    platform = platform_import(
                        framework=chosen,
                        files=[(path.name, handle) for path, handle in zip(file, handles, strict=True)],
                        name=name,
                        source=source,
                    )
                finally:
                    for handle in handles:
                        handle.close()
                self._report_platform(platform)
                return
            if len(file) > 1:
                raise CommandError("Give one file, or the WHO Benchmarks platform's seed files.")
            with file[0].open("rb") as handle:
                imported = library_import_report(
                    framework=chosen, name=name, source=source, upload=handle, filename=file[0].name, codes_of=keyed_by
                )
        except ImportRefused as refused:
            for problem in refused.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(f"Nothing was imported: {len(refused.problems)} problem(s) in {names}.") from None
        self._report(imported.library)
        if imported.unmapped:
            self.stdout.write(f"Left out, their indicator corresponding to none of {imported.library.framework.code}:")
            for problem in imported.unmapped:
                self.stdout.write(f"  {problem}")

    def _framework(self, code: str) -> Framework | None:
        if not code:
            return None
        found = Framework.objects.filter(code__iexact=code).first()
        if found is None:
            known = ", ".join(Framework.objects.values_list("code", flat=True))
            raise CommandError(f"Unknown framework {code!r}; choose one of {known}.")
        return found

    def _report_platform(self, imported: PlatformImported) -> None:
        self.stdout.write(self.style.SUCCESS(f"Into “{imported.library.name}” ({imported.library.framework.code}):"))
        self.stdout.write(self.style.SUCCESS(imported.summary()))
        if imported.passed_over:
            self.stdout.write(f"Passed over (not read): {', '.join(imported.passed_over)}.")

    def _report(self, library: BenchmarkLibrary) -> None:
        levels = dict(library.actions.values_list("level").annotate(n=Count("pk")).order_by("level"))
        total = sum(levels.values())
        indicators = library.actions.values("indicator").distinct().count()
        per_level = ", ".join(f"level {level}: {count}" for level, count in levels.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {total} actions for {indicators} indicators into “{library.name}” "
                f"({library.framework.code}): {per_level}."
            )
        )
