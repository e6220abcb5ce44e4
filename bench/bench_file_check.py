#!/usr/bin/env python3
"""Benchmark of the upload checks on lesson-plan-like PDFs.

    python3 bench/bench_file_check.py [--runs N] [--sizes 0.2,1,5,20]

Builds PDFs of about 0.2, 1, 5 and 20 MB (Vietnamese text in an embedded
font, tables, links, bookmarks, photos) with reportlab, then measures for
each: SHA-256 of the bytes, ``file_check.check_file`` in this process, and
``SandboxedChecker.check`` (persistent child; shared-memory transfer, and the
pipe transfer for comparison). Median and 95th percentile of wall time; the
target is 5 ms + 1x the SHA-256 time of the same bytes.
"""

import argparse
import hashlib
import io
import os
import random
import statistics
import time

from tools_loader import tools


def load_tools():
    """``file_check`` and ``file_sandbox`` of hscm_odoo/tools (no Odoo needed)."""
    return tools("file_check", "file_sandbox")


# ---------------------------------------------------------------------------
# Lesson-plan-like PDFs
# ---------------------------------------------------------------------------
TEXT_VI = (
    "Mục tiêu bài học: học sinh nắm được khái niệm phân số, biết so sánh hai phân số và thực "
    "hiện phép cộng, trừ phân số cùng mẫu. Hoạt động {n}: giáo viên nêu tình huống, học sinh "
    "thảo luận nhóm đôi trong năm phút rồi trình bày trước lớp; giáo viên nhận xét, chốt kiến "
    "thức và giao bài tập vận dụng."
)
TEXT_ASCII = (
    "Muc tieu bai hoc: hoc sinh nam duoc khai niem phan so, biet so sanh hai phan so va thuc "
    "hien phep cong, tru phan so cung mau. Hoat dong {n}: giao vien neu tinh huong, hoc sinh "
    "thao luan nhom doi trong nam phut roi trinh bay truoc lop."
)
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)


def _photo(seed, width=640, height=420):
    from PIL import Image, ImageFilter

    rnd = random.Random(seed)
    image = Image.effect_noise((width, height), 40 + rnd.randint(0, 30)).convert("RGB")
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    buffer.seek(0)
    return buffer


def lesson_plan_pdf(target_bytes, seed=1):
    """A PDF of roughly ``target_bytes``: text pages, tables, links, bookmarks, photos."""
    megabytes = target_bytes / 1e6
    pages = max(3, min(150, int(6 + megabytes * 7)))
    base = _build(pages, [])  # text only: how much room is left for photos
    photos, total = [], len(base)
    while total < target_bytes * 0.97 - 2000:
        photo = _photo(seed * 100_000 + len(photos)).getvalue()
        photos.append(photo)
        total += len(photo) + 400
    return _build(pages, photos)


def _build(pages, photos):
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Table

    rl_config.useA85 = 0  # binary streams, as word processors write them
    font, text = "Helvetica", TEXT_ASCII
    for candidate in FONT_CANDIDATES:
        if os.path.exists(candidate):
            if "LessonFont" not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont("LessonFont", candidate))
            font, text = "LessonFont", TEXT_VI
            break
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["Normal"], fontName=font, fontSize=11, leading=15)
    title = ParagraphStyle("title", parent=body, fontSize=14, leading=19)
    per_page = [photos[i::pages] for i in range(pages)]
    story = []
    for page in range(pages):
        heading = "Tiết %d. Bài %d: Phân số và các phép tính" % (page + 1, page // 3 + 1)
        story.append(Paragraph(heading if font != "Helvetica" else "Tiet %d" % (page + 1), title))
        for n in range(5):
            paragraph = text.format(n=n + 1)
            if n == 4 and page % 4 == 0:
                paragraph += (' <a href="https://hanoi.edu.vn/tai-lieu/%d" color="blue">Tài liệu '
                              'tham khảo</a>' % page)
            story.append(Paragraph(paragraph, body))
        story.append(Table([["Hoạt động", "Thời gian", "Hình thức"],
                            ["Khởi động", "5 phút", "Cả lớp"],
                            ["Hình thành kiến thức", "20 phút", "Nhóm"],
                            ["Luyện tập", "15 phút", "Cá nhân"]],
                           style=[("FONTNAME", (0, 0), (-1, -1), font)]))
        for photo in per_page[page]:
            story.append(Image(io.BytesIO(photo), width=160, height=105))
        story.append(PageBreak())

    def on_page(canvas, doc):
        key = "p%d" % doc.page
        canvas.bookmarkPage(key)
        canvas.addOutlineEntry("Trang %d" % doc.page, key, 0)

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, title="Kế hoạch bài dạy", author="Giáo viên")
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------
def measure(func, runs, warmup=3):
    for _ in range(warmup):
        func()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000.0)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return statistics.median(samples), p95, samples[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--runs", type=int, default=31, help="timed runs per measure")
    parser.add_argument("--sizes", default="0.2,1,5,20", help="target sizes in MB")
    args = parser.parse_args(argv)
    file_check, file_sandbox = load_tools()
    sizes = [float(s) for s in args.sizes.split(",")]

    print("Building lesson-plan PDFs ...", flush=True)
    samples = []
    for megabytes in sizes:
        started = time.perf_counter()
        data = lesson_plan_pdf(int(megabytes * 1e6))
        verdict = file_check.check_file(data, "bench.pdf")
        samples.append((megabytes, data))
        print("  %5.1f MB target: %9d bytes, %3s pages, verdict %s (%.1f s to build)" % (
            megabytes, len(data), verdict.pages, verdict.code, time.perf_counter() - started))
        if not verdict.ok:
            raise SystemExit("the benchmark PDF was refused: %s" % verdict.code)

    shm = file_sandbox.SandboxedChecker()
    pipe = file_sandbox.SandboxedChecker(transfer="pipe")
    started = time.perf_counter()
    shm.start()
    pipe.start()
    print("Sandbox children started in %.0f ms (both)" % ((time.perf_counter() - started) * 1000))

    rows = []
    try:
        for megabytes, data in samples:
            runs = args.runs if len(data) < 10e6 else max(11, args.runs // 2)
            sha = measure(lambda: hashlib.sha256(data).hexdigest(), runs)
            cpu_started = time.process_time()
            inproc = measure(lambda: file_check.check_file(data, "bench.pdf"), runs)
            cpu_per_check = (time.process_time() - cpu_started) * 1000.0 / (runs + 3)
            sandbox = measure(lambda: shm.check(data, "bench.pdf"), runs)
            piped = measure(lambda: pipe.check(data, "bench.pdf"), runs)
            target = 5.0 + sha[0]
            rows.append((megabytes, len(data), sha, inproc, cpu_per_check, sandbox, piped, target))
    finally:
        shm.close()
        pipe.close()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print()
    print("Upload check timings, milliseconds: median / p95 (wall clock)."
          "  CPUs: %s, load average: %.2f" % (os.cpu_count(), load))
    header = ("%-7s %10s | %-13s | %-13s %7s | %-13s | %-13s | %8s | %s" % (
        "size", "bytes", "sha256", "check_file", "cpu", "sandbox(shm)", "sandbox(pipe)",
        "target", "met (in-proc / sandbox)"))
    print(header)
    print("-" * len(header))
    for megabytes, size, sha, inproc, cpu, sandbox, piped, target in rows:
        print("%-7s %10d | %5.2f / %5.2f | %5.2f / %5.2f %7.2f | %5.2f / %5.2f | %5.2f / %5.2f |"
              " %8.2f | %s / %s" % (
                  "%g MB" % megabytes, size, sha[0], sha[1], inproc[0], inproc[1], cpu,
                  sandbox[0], sandbox[1], piped[0], piped[1], target,
                  "yes" if inproc[0] <= target else "NO", "yes" if sandbox[0] <= target else "NO"))
    print()
    print("target = 5 ms + 1 x SHA-256 median of the same bytes. check_file hashes on a helper")
    print("thread (hashlib releases the GIL) while it parses; 'cpu' is its CPU time per call,")
    print("both threads together. The sandbox parent copies the bytes into shared memory, hashes")
    print("them while the child checks; the pipe column sends the bytes through the child's stdin.")
    return rows


if __name__ == "__main__":
    main()
