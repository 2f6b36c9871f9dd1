"""The HTML report is a page: read back with the standard library's HTML parser, as a browser's DOM would be."""

from html.parser import HTMLParser

import pytest

from conv1dify.reports.documents import COLUMNS, inspection_html, inspection_markdown, inspection_summary

from .inspections import tiny_inspection, tiny_verification

VOID = {"meta", "link", "br", "img", "hr", "input", "col", "wbr", "path", "use", "rect", "circle", "line", "stop"}


class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag, self.attrs, self.parent, self.children, self.parts = tag, dict(attrs), parent, [], []

    @property
    def text(self):
        return " ".join("".join(self._texts()).split())

    def _texts(self):
        for item in self.parts:
            yield from (item._texts() if isinstance(item, Node) else [item])

    def find_all(self, tag, cls=None, **attrs):
        for child in self.children:
            classes = child.attrs.get("class", "").split()
            if child.tag == tag and (cls is None or cls in classes) and all(
                child.attrs.get(k) == v for k, v in attrs.items()
            ):
                yield child
            yield from child.find_all(tag, cls, **attrs)

    def find(self, tag, cls=None, **attrs):
        found = list(self.find_all(tag, cls, **attrs))
        assert len(found) == 1, f"expected one <{tag} class={cls} {attrs}>, found {len(found)}"
        return found[0]


class Tree(HTMLParser):
    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#document", [])
        self.doctype = None
        self.feed(text)
        self.close()

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        self.current.parts.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        self.current.parts.append(node)

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        assert node is not self.root, f"</{tag}> closes nothing"
        self.current = node.parent

    def handle_data(self, data):
        self.current.parts.append(data)


@pytest.fixture(scope="module")
def page():
    return Tree(inspection_html(tiny_inspection(), tiny_verification(mismatch=True))).root


def test_the_page_stands_alone(page):
    html = page.find("html")
    assert html.attrs["lang"] == "en" and page.find("meta", charset="utf-8")
    assert page.find("title").text == "conv1dify: tiny<b> → tiny<b>_1d"
    assert not list(page.find_all("script")) and not list(page.find_all("link")) and not list(page.find_all("img"))
    for node in [page, *page.find_all("svg")]:
        for element in _walk(node):
            for name, value in element.attrs.items():
                if name in ("src", "href", "xlink:href") and value:
                    assert value.startswith("#"), f"external reference {name}={value!r}"
    style = page.find("head").find("style").text
    assert "url(" not in style and "@import" not in style


def _walk(node):
    for child in node.children:
        yield child
        yield from _walk(child)


def test_the_summary_block_gives_the_totals_and_the_verdict(page):
    summary = page.find("section", id="summary")
    cards = {d.find("dt").text: [dd.text for dd in d.find_all("dd")] for d in summary.find("dl", "cards").children}
    assert list(cards) == ["layers", "parameters", "multiply-adds", "receptive field", "weights"]
    assert cards["layers"][0] == "5 → 5"  # the input layer is not a call
    assert cards["parameters"] == ["844 → 316", "844 → 316 (0.37x)"]  # 224 + 584 + 36 -> 80 + 200 + 36
    assert cards["receptive field"] == ["12x12 → 12", "pixels → samples, at c2; compared: 12 → 12 samples (1x)"]
    assert cards["weights"][0] == "5 exact"  # c1, p1, c2, gap, head (the input layer is no call)
    verdict = summary.find("p", "verdict")
    assert "mismatch" in verdict.attrs["class"].split() and verdict.find("strong").text == "MISMATCH"
    assert "3 exact, 1 mismatch, 2 approximate" in verdict.text


def test_the_layer_table_is_a_table_with_a_verified_column(page):
    table = page.find("table", "layers")
    assert [th.text for th in table.find("thead").find_all("th")] == [name for name, _ in COLUMNS] + ["verified"]
    rows = [[td.text for td in tr.find_all("td")] for tr in table.find("tbody").find_all("tr")]
    assert [r[0] for r in rows] == ["input_layer", "c1", "p1", "c2", "gap", "head", "tiny<b> (whole model)"]
    c2 = dict(zip([name for name, _ in COLUMNS] + ["verified"], rows[3], strict=True))
    assert c2["2D layer"] == "Conv2D k3x3 d2x2" and c2["1D layer"] == "Conv1D k3 d2"
    assert (c2["2D output"], c2["1D output"], c2["RF 2D px"], c2["RF 1D"]) == ("(16,16,8)", "(16,8)", "12x12", "12")
    assert c2["weights"] == "sum: exact" and c2["verified"] == "MISMATCH 5.0e-01"
    assert rows[1][-1] == "exact 4.8e-07" and rows[5][-1] == "approx. 2.5e-01" and rows[0][-1] == ""
    cell = list(table.find("tbody").find_all("tr"))[3].find("span", "mismatch")
    assert cell.text == "MISMATCH 5.0e-01"
    numeric = [td.attrs.get("class") == "num" for td in list(table.find("tbody").find_all("tr"))[1].find_all("td")]
    assert numeric == [justify == "right" for _, justify in COLUMNS] + [False]
    total = [td.text for td in table.find("tfoot").find_all("td")]
    assert total[0] == "total" and total[7:9] == ["844", "316"] and total[-1] == "MISMATCH"
    details = page.find("ul", "details")
    assert details.text == "mismatch c2: max abs 5.0e-01 > atol"


def test_markup_in_names_and_messages_stays_text(page):
    warnings = page.find("section", id="warnings")
    assert warnings.find("li").text == "note c2: a <script>alert(1)</script> note & more"
    assert not list(page.find_all("b")) and not list(page.find_all("script"))
    assert page.find("h1").text == "tiny<b> → tiny<b>_1d"


def test_the_figure_is_inline_svg_with_its_text(page):
    figure = page.find("section", id="figure")
    svg = figure.find("svg")
    assert "viewBox" in svg.attrs or "viewbox" in svg.attrs
    text = svg.text
    assert "2D: tiny<b>" in text and "1D: tiny<b>_1d" in text and "input 32 samples" in text
    assert "figcaption" in {c.tag for c in figure.find("figure").children}


def test_without_verification_or_figure():
    root = Tree(inspection_html(tiny_inspection(), figure=False)).root
    assert not list(root.find_all("svg")) and not list(root.find_all("p", "verdict"))
    header = [th.text for th in root.find("table", "layers").find("thead").find_all("th")]
    assert header == [name for name, _ in COLUMNS]


def test_summary_text_and_markdown_agree_with_the_page():
    inspection, verification = tiny_inspection(), tiny_verification(mismatch=True)
    lines = inspection_summary(inspection, verification).splitlines()
    assert lines[0] == "tiny<b> -> tiny<b>_1d   layout=width  sizes=kept  weights=sum"
    assert "  parameters  844 -> 316" in lines and "  receptive   12x12 px -> 12 samples (at c2)" in lines
    assert lines[-2].startswith("  verdict     MISMATCH: 3 exact, 1 mismatch, 2 approximate, largest error of an exact")
    assert lines[-1].strip() == "[mismatch] c2 (max abs 5.0e-01): max abs 5.0e-01 > atol"
    markdown = inspection_markdown(inspection, verification)
    c2 = [line for line in markdown.splitlines() if line.startswith("| c2 |")]
    assert c2 == ["| c2 | Conv2D k3x3 d2x2 | (16,16,8) | Conv1D k3 d2 | (16,8) | 12x12 | 12 | 584 | 200 | 147k | 3.07k "
                  "| sum: exact | MISMATCH 5.0e-01 |"], "one table, with the verification as its last column"
    assert "- **mismatch** `tiny<b>/c2` (max abs 5.00e-01): max abs 5.0e-01 > atol" in markdown
