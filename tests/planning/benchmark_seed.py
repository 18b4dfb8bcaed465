"""Seed files in the shape of the WHO Benchmarks platform's `db/seed-data/`, with short texts written for these tests
(not WHO's): all 18 technical areas and 44 benchmark indicators, two actions per level per indicator, the three
disease files, and files the import passes over."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

AREAS = [
    "National Legislation, Policy and Financing",
    "IHR Coordination, Communication and Advocacy and Reporting",
    "Antimicrobial Resistance",
    "Zoonotic Disease",
    "Food Safety",
    "Immunization",
    "National Laboratory System",
    "Biosafety and Biosecurity",
    "Surveillance",
    "Human Resources",
    "Emergency Preparedness",
    "Emergency Response Operations",
    "Linking Public Health and Security Authorities",
    "Medical Countermeasures and Personnel Deployment",
    "Risk Communication",
    "Points of Entry",
    "Chemical Events",
    "Radiation Emergencies",
]
INDICATORS_PER_AREA = [3, 2, 4, 2, 2, 2, 4, 2, 3, 4, 2, 3, 1, 3, 3, 2, 1, 1]
ACTIONS_PER_LEVEL = 2
DISEASE_ACTIONS = {
    "influenza": [("9.1", ["13", "3"]), ("12.1", ["8"]), ("14.1", ["9", "6"])],
    "cholera": [("5.1", ["13"]), ("15.3", ["5", "1"])],
    "ebola": [("14.3", ["15"]), ("16.2", ["12", "11"])],
}


def benchmark_numbers() -> list[str]:
    return [f"{area}.{n}" for area, count in enumerate(INDICATORS_PER_AREA, start=1) for n in range(1, count + 1)]


def seed_files() -> dict[str, Any]:
    """The platform's files by name, as Python data (json.dumps gives the file)."""
    areas = [{"sequence": n, "text": text} for n, text in enumerate(AREAS, start=1)]
    indicators = [
        {
            "technical_area_sequence": int(number.split(".")[0]),
            "sequence": int(number.split(".")[1]),
            "text": f"Test capacity {number} is in place.",
            "objective": f"To build test capacity {number}.",
        }
        for number in benchmark_numbers()
    ]
    actions = []
    for number in benchmark_numbers():
        sequence = 0
        for level in range(2, 6):
            for n in range(1, ACTIONS_PER_LEVEL + 1):
                sequence += 1
                actions.append(
                    {
                        "benchmark_indicator_display_abbreviation": number,
                        "text": f"Test step {n} towards level {level} of {number}.",
                        "level": level,
                        "sequence": sequence,
                        "action_types": [(len(actions) % 15) + 1],
                    }
                )
    files: dict[str, Any] = {
        "benchmark_technical_areas.json": areas,
        "benchmark_indicators.json": indicators,
        "benchmark_indicator_actions.json": actions,
    }
    for disease, items in DISEASE_ACTIONS.items():
        files[f"{disease}_actions.json"] = [
            {
                "action_text": f"Test {disease} step for {number}.",
                "benchmark_indicator_display_abbreviation": number,
                "activity_types": types,
            }
            for number, types in items
        ]
    return files


STRAY = {
    "countries.json": [{"name": "Testland", "abbreviation": "XT"}],
    "assessment_jee1.json": [{"name": "test"}],
    # The platform's reference library, read with the actions (planning.guidance): a document citing actions 1 and 2.
    "reference_library_documents.json": [
        {
            "id": 1,
            "title": "A test guide\nfor legislators",
            "description": "How to review the laws.",
            "author": "World Health Organization",
            "date": "2019",
            "relevant_pages": "All",
            "download_url": "https://guidance.example.org/files/1.pdf",
            "thumbnail_url": None,
            "technical_area": "National Legislation, Policy and Financing",
            "reference_type": "Tool",
            "created_at": "2021-04-12 20:53:06 UTC",
            "updated_at": "2021-04-12 20:53:06 UTC",
            "last_modified": "2020-02-12 19:07:11 UTC",
            "url": None,
            "benchmark_indicator_action_ids": [1, 2],
        }
    ],
    "countries.xlsx": b"PK\x03\x04 not read",
}


GUIDANCE = "reference_library_documents.json"
PASSED_OVER = sorted(set(STRAY) - {GUIDANCE})  # the files of the platform's folder the import does not read


def file_bytes(files: dict[str, Any]) -> dict[str, bytes]:
    return {name: data if isinstance(data, bytes) else json.dumps(data).encode() for name, data in files.items()}


def seed_zip(files: dict[str, Any], *, folder: str = "db/seed-data/") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if folder:
            archive.writestr(folder, b"")
        for name, data in file_bytes(files).items():
            archive.writestr(f"{folder}{name}", data)
    return buffer.getvalue()


def as_uploads(files: dict[str, Any]) -> list[tuple[str, io.BytesIO]]:
    return [(name, io.BytesIO(data)) for name, data in file_bytes(files).items()]
