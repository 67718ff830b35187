"""Anki packages (.apkg, .colpkg): reading them (package.py), writing their content into
Studyapp (importer.py), rendering Anki's card templates (templates.py) and writing a deck
back out as an .apkg (export.py). collection.py holds the plain records they share."""
