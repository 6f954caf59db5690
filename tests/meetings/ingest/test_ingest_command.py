import pytest
from django.core.management import CommandError, call_command

from meetings.models import SourceArticle
from tracker.moderation.models import Proposal

pytestmark = pytest.mark.django_db

TEXT = ("SEOUL, Oct. 10 (Yonhap) -- First Vice Foreign Minister Park Yoon-joo held talks with "
        "Under Secretary of State for Political Affairs Allison Hooker in Seoul on Friday.")


def test_ingest_sync_stores_a_folder_and_suggests_in_process(officials, tmp_path, capsys):
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "skip.json").write_text("{}")
    call_command("ingest", str(tmp_path), "--published", "2025-10-10", "--sync")
    assert "1 source(s): 1 stored" in capsys.readouterr().out
    assert SourceArticle.objects.get().published_date == "2025-10-10"
    assert Proposal.objects.filter(kind="new_meeting").count() == 1
    call_command("ingest", str(tmp_path), "--sync")
    assert "1 already known" in capsys.readouterr().out
    assert Proposal.objects.count() == 1


def test_ingest_reports_a_missing_source_and_a_non_utf8_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("ingest", str(tmp_path / "nope.txt"))
    bad = tmp_path / "bad.txt"
    bad.write_bytes("Séoul".encode("latin-1"))
    with pytest.raises(CommandError, match="1 source\\(s\\) failed"):
        call_command("ingest", str(bad))
