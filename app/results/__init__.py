"""Results of an election: the result report (选举结果报告单) and the exports.

``numerals`` and ``report`` are pure; ``exports`` writes JSON, CSV, XLSX and the NIST SP 1500-100 /
SP 1500-103 documents; the PDF is drawn by ``app.results.report_pdf``.
"""
