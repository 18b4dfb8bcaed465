"""The layouts a plan's costs go out to Excel in and come back from, one module each: what its sheets, columns
and headings are and how a row of it reads. Exporting, checking and applying them is costing/workbook.py and
costing/who.py, through the one upload lifecycle of costing/uploads.py and the vocabulary of naphs/spreadsheets.py.
"""
