"""Write the broken-input corpus (``tests/reliability/corpus/``): one defect per file, from a 2-case valid base.

Run once by hand when a case is added (``python tests/reliability/make_corpus.py``); the files are committed and
``cases.csv`` lists what each must produce. The base is cases 1-2 of the bundled synthetic dev split.
"""

from __future__ import annotations

import codecs
import json
import struct
import zipfile
from pathlib import Path

from harness.data import load_dataset
from harness.data.json_io import key_to_json
from harness.data.xml_io import cases_to_xml

CORPUS = Path(__file__).parent / "corpus"
HEADER = "{{HEADER}}"  # replaced by the run store's real header line (its fingerprint hashes the source code)
TORN_HEADER = "{{TORN_HEADER}}"  # replaced by the first half of that line, without a newline


def _base() -> tuple[str, list]:
    split = load_dataset("synthetic").split("dev").select(["1", "2"])
    return cases_to_xml(split.cases), list(split.keys.values())


def _prediction(case_id: str, ids: list) -> str:
    return json.dumps({"type": "prediction", "case_id": case_id, "prediction": ids, "meta": {}})


def _report(**changes: object) -> dict:
    report = json.loads(
        (Path(__file__).parents[1] / "metrics/golden/synthetic-test-2026-subtask2-lexical.json").read_text()
    )
    report.update(changes)
    return report


def _lying_zip(members: int) -> bytes:
    """A zip whose end record declares 1 member while its central directory holds ``members``."""
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("submission.json", "[]")
        for i in range(members - 1):
            archive.writestr(f"{i}", b"")
    data = bytearray(buffer.getvalue())
    at = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, at + 8, 1, 1)
    return bytes(data)


def main() -> None:
    xml, keys = _base()
    CORPUS.mkdir(exist_ok=True)
    files: dict[str, bytes | str] = {
        "base.xml": xml,
        "base_key.json": key_to_json(keys),
        "xml_utf16_bom.xml": codecs.BOM_UTF16_LE + xml.encode("utf-16-le"),
        "xml_utf16_no_bom.xml": xml.replace("UTF-8", "UTF-16").encode("utf-16-le"),
        "xml_utf16_declared.xml": xml.replace("encoding='UTF-8'", "encoding='UTF-16'"),
        "xml_utf32_bom.xml": xml.encode("utf-32"),
        "xml_latin1.xml": xml.replace("encoding='UTF-8'", "")
        .replace("<annotations>", "<annotations><!-- é -->")
        .encode("utf-8")
        .replace("é".encode(), b"\xe9"),
        "xml_nul_byte.xml": xml.replace('<case id="2">\n        <', '<case id="2">\n        \x00<', 1),
        "xml_truncated.xml": xml[: xml.index("<note_excerpt>", xml.index('<case id="2"')) + 40],
        "xml_empty_sentence_list.xml": _empty_sentences(xml),
        "xml_mismatched_tag.xml": xml.replace("</clinician_question>", "</clinician_questio>", 2).replace(
            "</clinician_questio>", "</clinician_question>", 1
        ),
        "key_2026_no_alignment.json": _key_without_alignment(keys),
        "config_bad_yaml.yaml": "max_evidence: [1, 2\n",
        "config_list.yaml": "- max_evidence\n- 2\n",
        "store_zero_bytes.jsonl": "",
        "store_torn_header.jsonl": TORN_HEADER,
        "store_binary_line.jsonl": f"{HEADER}\n".encode() + b"\xff\xfe\x00\x01binary\n",
        "store_blank_line.jsonl": f"{HEADER}\n\n",
        "store_array_line.jsonl": f"{HEADER}\n[1, 2]\n",
        "store_no_case_id.jsonl": f'{HEADER}\n{{"type": "prediction", "prediction": {{"sentence_ids": []}}}}\n',
        "store_bare_number.jsonl": f"{HEADER}\n42\n",
        "store_conflicting_duplicate.jsonl": f"{HEADER}\n{_prediction('1', ['1'])}\n{_prediction('1', ['2'])}\n",
        "store_identical_duplicate.jsonl": f"{HEADER}\n{_prediction('1', ['1'])}\n{_prediction('1', ['1'])}\n",
        "store_foreign_header.jsonl": json.dumps({"type": "header", "system_card": {"fingerprint": "0" * 64}}) + "\n",
        "store_invalid_prediction.jsonl": f"{HEADER}\n{_prediction('1', [3, 4])}\n",
        "submission_s2_valid.json": json.dumps([{"case_id": "1", "prediction": ["1"]}]),
        "zip_lying_member_count.zip": _lying_zip(1001),
        "report_deep.json": '{"scores": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "report_huge_int.json": json.dumps(_report(scores={"overall_score": 10**400})),
        "report_scores_list.json": json.dumps(_report(scores=[1, 2])),
        "report_out_of_range.json": json.dumps(_report(scores={**_report()["scores"], "overall_score": 1e308})),
        "report_negative.json": json.dumps(_report(scores={**_report()["scores"], "strict_micro_f1": -5})),
        "report_bool_score.json": json.dumps(_report(scores={**_report()["scores"], "overall_score": True})),
        "report_subtask_word.json": json.dumps(_report(subtask="two")),
        "report_year_1999.json": json.dumps(_report(year="1999")),
        "report_control_chars.json": json.dumps(_report(system="\x1b[2J\x1b[31mevil")),
        "not_sqlite.db": "this is not an SQLite database\n" * 10,
    }
    for name, content in files.items():
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (CORPUS / name).write_bytes(data)


def _empty_sentences(xml: str) -> str:
    start = xml.index("<note_excerpt_sentences>", xml.index('<case id="2"'))
    end = xml.index("</note_excerpt_sentences>", start)
    return xml[: start + len("<note_excerpt_sentences>")] + "\n        " + xml[end:]


def _key_without_alignment(keys: list) -> str:
    from dataclasses import replace

    return key_to_json([replace(k, clinician_answer_sentences=None) if k.case_id == "2" else k for k in keys])


if __name__ == "__main__":
    main()
