"""The question parser, table-driven: every rule of question_rules.toml fires on its examples and not on its
counter-examples; filters, scope, subject and follow-ups are read the same way whatever the wording."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.qa.intent_model import IntentModel
from assistant.qa.plan import CorpusTerms, DocField, QuestionParser, Scope, Slot, merge_follow_up, rules

PROBES = Path(__file__).parent / "probes"
TERMS = CorpusTerms(
    communes=("Hà Đông", "Hòa Điền", "Phước An", "Vĩnh Thuận", "Vũ Quang"),
    provinces=("An Giang", "Hải Phòng", "Đồng Nai", "Hà Tĩnh"),
    plan_numbers=("128",),
    titles=("trien khai mo hinh xa ha dong doi moi sang tao giai doan 2026 2030",),
    units=(("truong thcs quang phu", "Trường THCS Quảng Phú"),),
)


@pytest.fixture(scope="module")
def parser() -> QuestionParser:
    return QuestionParser()


CASES = [(rule.id, example, True) for rule in rules() for example in rule.examples] + [
    (rule.id, example, False) for rule in rules() for example in rule.counter
]


@pytest.mark.parametrize(("rule_id", "question", "fires"), CASES, ids=[f"{r}:{q[:30]}" for r, q, _ in CASES])
def test_every_rule_on_its_examples(parser: QuestionParser, rule_id: str, question: str, fires: bool) -> None:
    plan = parser.parse(question, TERMS)
    assert (rule_id in plan.fired) is fires, plan.explain()


def test_every_rule_has_examples() -> None:
    assert all(rule.examples for rule in rules())


@pytest.mark.parametrize(
    ("question", "slots"),
    [
        ("Đơn vị nào chủ trì chỉ số Hạ tầng số ở xã Vĩnh Thuận?", [Slot.LEAD]),
        ("phong nao lo chi so ha tang so o vinh thuan", [Slot.LEAD]),
        ("Ai chủ trì, ai phối hợp thanh toán không tiền mặt năm 2028 ở Hà Đông?", [Slot.LEAD, Slot.PARTNER]),
        ("Phòng Kinh tế phối hợp với những ai trong việc lập dự toán?", [Slot.PARTNER]),
        ("Tỷ lệ phủ sóng 5G của Phước An đặt bao nhiêu, phòng nào theo dõi?", [Slot.VALUE, Slot.LEAD]),
        ("Sơ kết 2 năm làm vào lúc nào, ai chủ trì?", [Slot.DEADLINE, Slot.LEAD]),
        ("Có bao nhiêu chỉ tiêu về chuyển đổi số?", [Slot.COUNT]),
        ("Bộ KPI gồm mấy nhóm tiêu chí, tổng bao nhiêu điểm?", [Slot.COUNT, Slot.VALUE]),
        ("Công an xã được giao nhiệm vụ gì?", [Slot.DUTIES]),
        ("Kế hoạch phân công cho những cơ quan, đơn vị nào?", [Slot.UNITS]),
        ("Chỉ tiêu 15 gồm những chỉ tiêu con nào?", [Slot.ITEMS]),
        ("Chế độ báo cáo quy định thế nào?", [Slot.TEXT]),
    ],
)
def test_slots(parser: QuestionParser, question: str, slots: list[Slot]) -> None:
    assert list(parser.parse(question, TERMS).slots) == slots


@pytest.mark.parametrize(
    ("question", "fields"),
    [
        ("Kế hoạch PII của Hòa Điền số bao nhiêu?", [DocField.NUMBER]),
        ("KH của Vũ Quang ký tháng mấy?", [DocField.DATE]),
        ("Ai ký kế hoạch, với chức danh gì?", [DocField.SIGNER, DocField.SIGNER_ROLE]),
        ("Vĩnh Thuận nằm ở tỉnh nào, KH PII thực hiện theo kế hoạch nào của tỉnh?", [DocField.PROVINCE, DocField.BASES]),
        ("KH Vũ Quang thực hiện theo kế hoạch số mấy của UBND tỉnh?", [DocField.BASES]),
        ("Kế hoạch được gửi cho những ai?", [DocField.RECIPIENTS]),
    ],
)
def test_document_fields(parser: QuestionParser, question: str, fields: list[DocField]) -> None:
    plan = parser.parse(question, TERMS)
    assert plan.slots[0] is Slot.FIELD and list(plan.fields) == fields


def test_places_and_filters(parser: QuestionParser) -> None:
    plan = parser.parse("Vũ Quang: tỷ lệ chi cho KHCN năm 2030 (chỉ tiêu 15.3, quý III) ở phụ lục I, nhóm 2", TERMS)
    assert plan.communes == ("Vũ Quang",) and plan.years == (2030,) and plan.quarter == "III"
    assert "15.3" in plan.rows and plan.appendix == "i" and plan.group == "2"
    assert parser.parse("Kế hoạch giai đoạn 2027-2028", TERMS).periods == ((2027, 2028),)
    assert parser.parse("KH NQ57 của xã bên Hà Tĩnh đặt chỉ tiêu gì?", TERMS).provinces == ("Hà Tĩnh",)


@pytest.mark.parametrize(
    ("question", "unknown"),
    [
        ("Xã Tân Lập giao đơn vị nào chủ trì tuyên truyền?", "Tân Lập"),
        ("xa tan lap co bao nhieu chi tieu", "tan lap"),
        ("Kế hoạch của xã Hòa Điền nói gì về hợp tác xã?", None),
        ("Các hợp tác xã và xã hội số được nhắc thế nào?", None),
    ],
)
def test_unknown_communes(parser: QuestionParser, question: str, unknown: str | None) -> None:
    assert parser.parse(question, TERMS).unknown_commune == unknown


def test_a_plan_named_by_its_number_or_by_what_it_cites(parser: QuestionParser) -> None:
    own = parser.parse("KH 128/KH-UBND là của xã nào?", TERMS)
    assert own.plan_number == "128" and own.scope is Scope.ONE and not own.numbers
    cited = parser.parse("Những xã nào làm kế hoạch theo KH 68 của UBND tỉnh?", TERMS)
    assert cited.numbers == ("68",) and cited.scope is Scope.ALL
    assert parser.parse("Kế hoạch triển khai Nghị quyết 57 của xã nào?", TERMS).numbers == ()


def test_units_as_doers_and_as_recipients(parser: QuestionParser) -> None:
    plan = parser.parse("Các cơ quan gửi báo cáo cho Phòng VH-XH trước ngày mấy?", TERMS)
    assert plan.recipients == ("Phòng Văn hóa - Xã hội",)
    assert parser.parse("TT Phục vụ HCC phối hợp với ai?", TERMS).units == ("Trung tâm Phục vụ hành chính công",)
    assert parser.parse("truong THCS Quang Phu chu tri viec gi", TERMS).units == ("Trường THCS Quảng Phú",)


@pytest.mark.parametrize(
    ("question", "units"),
    [
        ("Nhiệm vụ kết nối vốn vay ở Vũ Quang thì các đơn vị phối hợp gồm những ai?", ()),  # units asked for
        ("Đơn vị nào chủ trì số hóa hồ sơ ở Hòa Điền?", ()),
        ("Các cơ quan, đơn vị liên quan ở Hòa Điền được giao gì?", ("Các phòng, ban, ngành xã",)),  # one named
        ("Các phòng, ban, ngành xã Hà Đông làm gì?", ("Các phòng, ban, ngành xã",)),
    ],
)
def test_units_asked_for_are_not_units_named(parser: QuestionParser, question: str, units: tuple[str, ...]) -> None:
    assert parser.parse(question, TERMS).units == units


@pytest.mark.parametrize(
    ("question", "unlisted"),
    [
        ("Phòng Tài chính - Kế hoạch xã Hòa Điền được giao nhiệm vụ gì?", ("Phòng Tài chính - Kế hoạch",)),
        ("Đội Thanh niên tình nguyện làm gì?", ("Đội Thanh niên tình nguyện",)),
        ("Trường THCS Quảng Phú làm gì?", ()),  # a plan names it
        ("Phòng Văn hóa - Xã hội chủ trì gì?", ()),  # the alias table knows it
        ("phòng nào lo hạ tầng số?", ()),  # no name
    ],
)
def test_units_no_plan_or_table_knows(parser: QuestionParser, question: str, unlisted: tuple[str, ...]) -> None:
    assert parser.parse(question, TERMS).unlisted_units == unlisted


@pytest.mark.parametrize(
    ("question", "section"),
    [
        ("Mục 5.2 kế hoạch Vũ Quang giao Phòng VH-XH những việc gì?", "5.2"),
        ("muc III.4 kh vu quang noi gi", "III.4"),
        ("Phần IV kế hoạch Hòa Điền nói gì?", "IV"),
        ("Tỷ lệ người dân có tài khoản VNeID do ai theo dõi?", None),  # 'khoản V…' is no heading
        ("Mục tiêu cụ thể năm 2026 là gì?", None),
    ],
)
def test_numbered_headings(parser: QuestionParser, question: str, section: str | None) -> None:
    assert parser.parse(question, TERMS).section == section


@pytest.mark.parametrize(
    ("question", "unlisted"),
    [
        ("Chương trình hành động của Ban Thường vụ Tỉnh ủy mà KH 128 nhắc tới số mấy?", ("Ban Thường vụ Tỉnh ủy",)),
    ],
)
def test_unit_names_end_before_function_words(parser: QuestionParser, question: str, unlisted: tuple[str, ...]) -> None:
    assert parser.parse(question, TERMS).unlisted_units == unlisted


def test_function_words_typed_without_diacritics_even_with_punctuation(parser: QuestionParser) -> None:
    plan = parser.parse("tram y te xa Vinh Thuan chu tri nhiem vu gi trong phu luc?", TERMS)
    assert "trong" not in plan.subject
    about = parser.parse("Kế hoạch của xã Hòa Điền nói gì về hợp tác xã?", TERMS)
    assert about.recipients == ()  # 'về' after 'nói gì' is what it is about, not whom it is sent to
    province = parser.parse("Những xã nào thuộc tỉnh An Giang?", TERMS)
    assert province.subject == () and province.provinces == ("An Giang",)


@pytest.mark.parametrize(
    ("question", "rows"),
    [
        ("Hạn cấp định danh điện tử mức 2 ở Hòa Điền là khi nào?", ()),  # a level, not 'mục 2'
        ("Ai chủ trì mô hình chợ 4.0 ở Vũ Quang?", ()),  # a version, not row 4
        ("Mục 2 phụ lục của Hà Đông ai chủ trì?", ("2",)),
        ("Chỉ tiêu 15.3 của Phước An là bao nhiêu?", ("15.3",)),  # not row 15 as well
        ("Nhóm tiêu chí số 2 của Hà Đông gồm những gì?", ()),  # a group, not a row
        ("PL I Vũ Quang chỉ tiêu số 3 là gì?", ("3",)),
    ],
)
def test_row_numbers(parser: QuestionParser, question: str, rows: tuple[str, ...]) -> None:
    assert parser.parse(question, TERMS).rows == rows


def test_a_long_parenthesis_glosses_the_subject_a_short_one_names_it(parser: QuestionParser) -> None:
    glossed = parser.parse("Tỷ lệ giao dịch không dùng tiền mặt (người dân dùng ví điện tử, chuyển khoản) ở Phước An?", TERMS)
    assert "vi" not in glossed.subject and "vi" in glossed.context and "tien" in glossed.subject
    named = parser.parse("Tỷ lệ người dân có tài khoản định danh điện tử (VNeID) ở Phước An là bao nhiêu?", TERMS)
    assert "vneid" in named.subject


@pytest.mark.parametrize(
    ("question", "group", "appendix", "numbers"),
    [
        ("Bộ chỉ số Hà Đông: nhóm tiêu chí số 2 gồm những chỉ số nào?", "2", None, ()),
        ("Hà Đông, nhóm chỉ tiêu thứ 6 được mấy điểm?", "6", None, ()),
        ("Cộng cả 5 nhóm thì bộ chỉ số Hà Đông có bao nhiêu chỉ số?", None, None, ()),  # a count of groups
        ("PL II KH Vũ Quang nhiệm vụ số 20 là gì?", None, "ii", ()),  # 'PL' before its numeral is an appendix
        ("Căn cứ KH số 68 của tỉnh, Hòa Điền làm gì?", None, None, ("68",)),
    ],
)
def test_groups_appendices_and_document_numbers(
    parser: QuestionParser, question: str, group: str | None, appendix: str | None, numbers: tuple[str, ...]
) -> None:
    plan = parser.parse(question, TERMS)
    assert (plan.group, plan.appendix, plan.numbers) == (group, appendix, numbers), plan.explain()


def test_a_cue_covers_its_own_words_not_the_gap_it_allows(parser: QuestionParser) -> None:
    plan = parser.parse("Phước An, tỷ lệ nhiệm vụ theo dõi giám sát trên môi trường điện tử do đơn vị nào phụ trách?", TERMS)
    assert {"giam", "sat", "moi", "truong", "dien", "tu"} <= set(plan.subject)


def test_subject_leaves_out_cues_places_negations_and_quoted_plan_names(parser: QuestionParser) -> None:
    plan = parser.parse("Ở Vĩnh Thuận, phòng nào lo vụ hạ tầng số vậy?", TERMS)
    assert plan.subject == ("ha", "tang", "so")
    negated = parser.parse("Xã nào do Chủ tịch ký trực tiếp chứ không phải phó chủ tịch ký thay?", TERMS)
    assert "pho" not in negated.subject + negated.context and "truc" in negated.context
    quoted = parser.parse("Trong bộ KPI “Xã Hà Đông đổi mới sáng tạo”, ai tổng hợp kết quả?", TERMS)
    assert "sang" not in quoted.subject and "tong" in quoted.subject


def test_follow_ups_merge_only_what_they_leave_out(parser: QuestionParser) -> None:
    first = parser.parse("Ở Vũ Quang, chỉ tiêu tỷ lệ phủ sóng 5G năm 2026 là bao nhiêu?", TERMS)
    year = parser.parse("Năm 2030 thì bao nhiêu?", TERMS)
    assert year.elliptical
    merged = merge_follow_up(year, first)
    assert merged.communes == ("Vũ Quang",) and merged.years == (2030,) and merged.subject == first.subject
    place = merge_follow_up(parser.parse("Còn xã Phước An thì sao?", TERMS), first)
    assert place.communes == ("Phước An",) and place.slots == first.slots and place.years == (2026,)
    partner = merge_follow_up(parser.parse("Đơn vị phối hợp là ai?", TERMS), first)
    assert partner.slots == (Slot.PARTNER,) and partner.same_subject
    unaccented = merge_follow_up(parser.parse("con xa phuoc an thi sao", TERMS), first)
    assert unaccented.subject == first.subject and unaccented.communes == ("Phước An",)
    fresh = parser.parse("Ai ký kế hoạch của xã Phước An?", TERMS)
    assert not fresh.elliptical


def test_the_learned_fallback_reads_unseen_wordings() -> None:
    model = IntentModel.trained()
    assert model.predict("việc này ai lo") is Slot.LEAD
    assert model.predict("bao giờ thì phải xong") is Slot.DEADLINE
    assert model.predict("mức phấn đấu cho năm tới là mấy phần trăm") is Slot.VALUE


# The probe sets written blind from the plans: what kind of answer each question wants, as the writers labelled it.
_KIND_SLOTS = {"lead": Slot.LEAD, "partner": Slot.PARTNER, "deadline": Slot.DEADLINE, "target": Slot.VALUE,
               "metadata": Slot.FIELD}


def test_probe_questions_ask_what_their_writers_meant(parser: QuestionParser) -> None:
    items = [json.loads(line) for line in (PROBES / "probes_officers.jsonl").read_text(encoding="utf-8").splitlines()]
    labelled = [i for i in items if i["kind"] in _KIND_SLOTS and i.get("category") not in ("count", "structure")]
    agree = sum(_KIND_SLOTS[i["kind"]] in parser.parse(i["question"], TERMS).slots for i in labelled)
    assert agree / len(labelled) >= 0.85, (agree, len(labelled))


@pytest.mark.parametrize(
    ("question", "kept", "dropped"),
    [
        ("sang kien trong quan ly can bao nhieu moi nam", ("sang", "kien"), ("can", "moi")),  # 'cần', 'mỗi năm'
        ("ty le can bo duoc tap huan la bao nhieu", ("can", "bo"), ()),  # 'cán bộ'
    ],
)
def test_words_typed_without_diacritics_that_ask_rather_than_name(
    parser: QuestionParser, question: str, kept: tuple[str, ...], dropped: tuple[str, ...]
) -> None:
    subject = parser.parse(question, TERMS).subject
    assert set(kept) <= set(subject) and not set(dropped) & set(subject), subject


def test_the_intent_model_applies_scikit_learns_weights_exactly(tmp_path: Path) -> None:
    """The serving process applies the weights with numpy; on every labelled question and every probe question
    its probabilities are scikit-learn's own."""
    from assistant.qa.intent_model import fit_pipeline, labelled_questions, save_weights

    pipeline = fit_pipeline(labelled_questions())
    save_weights(pipeline, tmp_path / "intent.npz")
    model = IntentModel.load(tmp_path / "intent.npz")
    questions = [q for q, _ in labelled_questions()] + [
        json.loads(line)["question"] for path in sorted(PROBES.glob("probes_*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions += ["", "   ", "a", "Đ", "CĐS?!", "ai  chủ\ttrì\n chỉ số"]
    from core.normalize import fold

    expected = pipeline.predict_proba([fold(q) for q in questions])
    actual = np.array([model.probabilities(q) for q in questions])
    assert list(pipeline.classes_) == model.classes
    assert np.abs(actual - expected).max() < 1e-9
    assert model.scores("việc này ai lo") == IntentModel.trained().scores("việc này ai lo")


@pytest.mark.parametrize(("question", "named"), [
    ("PII Vĩnh Thuận, trụ cột Thể chế, dòng Cải cách hành chính ai chủ trì?", "the che"),  # the name ends at ','
    ("tru cot co so ha tang; chi so ha tang so ai lo?", "co so ha tang"),
    ("Trụ cột “Sản phẩm tri thức, sáng tạo và công nghệ” do ai chủ trì?", "san pham tri thuc"),  # opening quote
    ("Vĩnh Thuận: nhóm Thiết chế pháp lý và an ninh trật tự; chính sách hỗ trợ DN do ai chủ trì?",
     "thiet che phap ly an ninh trat tu"),
    ("Trụ cột Tác động gồm những chỉ số nào?", "tac dong"),
])
def test_a_pillar_is_named_up_to_the_punctuation(parser: QuestionParser, question: str, named: str) -> None:
    from assistant.qa.service import _named_pillar

    assert " ".join(_named_pillar(parser.parse(question, TERMS))) == named
