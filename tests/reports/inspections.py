"""A small inspection and verification built by hand, so the report tests need no framework."""

from conv1dify.core.plan import Status
from conv1dify.core.verification import LayerCheck, Verification
from conv1dify.reports.inspection import Inspection, InspectWarning, LayerRow, totals


def _row(path, class_2d, class_1d, shape_2d, shape_1d, rf_2d, rf_1d, params=(0, 0), macs=(0, 0), sizes=({}, {}),
         weights=None, expected="exact"):  # fmt: skip
    return LayerRow(
        path=f"tiny<b>/{path}", class_2d=class_2d, classes_1d=[class_1d], shape_2d=shape_2d, shape_1d=shape_1d,
        sizes_2d=sizes[0], sizes_1d=sizes[1], rf_2d=rf_2d, rf_1d=rf_1d, jump_2d=None, jump_1d=None,
        params_2d=params[0], params_1d=params[1], macs_2d=macs[0], macs_1d=macs[1], weights=weights, expected=expected,
    )  # fmt: skip


def tiny_inspection(layout="width"):
    """A 32x32x3 input read along its width: conv 3x3, pool 2, dilated conv, global pool, dense.

    Receptive fields by hand: c1 3; p1 3 + 1 = 4 (jump 2); c2 4 + (3 - 1) * 2 * 2 = 12. The name holds markup
    (``tiny<b>``), which every document must escape.
    """
    rows = [
        _row("input_layer", "InputLayer", "InputLayer", (32, 32, 3), (32, 3), [1, 1], 1),
        _row("c1", "Conv2D", "Conv1D", (32, 32, 8), (32, 8), [3, 3], 3, (224, 80), (221184, 2304),
             ({"kernel_size": [3, 3]}, {"kernel_size": [3]}), "sum"),
        _row("p1", "MaxPooling2D", "MaxPooling1D", (16, 16, 8), (16, 8), [4, 4], 4,
             sizes=({"pool_size": [2, 2]}, {"pool_size": [2]})),
        _row("c2", "Conv2D", "Conv1D", (16, 16, 8), (16, 8), [12, 12], 12, (584, 200), (147456, 3072),
             ({"kernel_size": [3, 3], "dilation_rate": [2, 2]}, {"kernel_size": [3], "dilation_rate": [2]}), "sum"),
        _row("gap", "GlobalAveragePooling2D", "GlobalAveragePooling1D", (8,), (8,), None, None),
        _row("head", "Dense", "Dense", (4,), (4,), None, None, (36, 36), (32, 32), weights="copy"),
    ]  # fmt: skip
    inspection = Inspection(
        source="tiny<b>", name="tiny<b>_1d", layout=layout, order="row", sizes="kept", weights="sum",
        input_shapes_2d=[(32, 32, 3)], input_shapes_1d=[(32, 3)], output_shapes_2d=[(4,)], output_shapes_1d=[(4,)],
        rows=rows, totals={}, warnings=[], model=None, conversion=None,
    )  # fmt: skip
    inspection.totals = totals(inspection, 844, 316)
    inspection.warnings = [InspectWarning("note", "tiny<b>/c2", "a <script>alert(1)</script> note & more")]
    return inspection


def tiny_verification(mismatch=False):
    def check(path, status, max_abs=None, detail=""):
        return LayerCheck(path, "X", "Y", (), (), "identity", status, max_abs, None if max_abs is None else 0.0,
                          detail)  # fmt: skip

    bad = Status.MISMATCH if mismatch else Status.EXACT
    checks = [
        check("tiny<b>/c1", Status.EXACT, 4.8e-7),
        check("tiny<b>/p1", Status.EXACT, 0.0),
        check("tiny<b>/c2", bad, 0.5 if mismatch else 6.0e-7, "max abs 5.0e-01 > atol" if mismatch else ""),
        check("tiny<b>/gap", Status.EXACT, 1.0e-7),
        check("tiny<b>/head", Status.APPROXIMATE, 0.25),
        check("tiny<b> (whole model)", Status.APPROXIMATE, None),
    ]
    return Verification(checks, "width", "sum", 1e-4, 1e-4)
