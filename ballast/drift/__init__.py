"""`ballast drift`: what `pulumi refresh --preview-only` found, as a risk-ranked report.

One capability per module:

* `sources`: read engine events (a `--event-log` file, streamed line by line, or the
  Automation API's `on_event` callback) and `pulumi refresh --preview-only --json`
  documents into `StepRecord`s;
* `paths`: property paths (`a.b[0].c`, `tags["k.v"]`), looking values up, masking secrets;
* `diff`: one step's changed properties, old -> new;
* `noise`: the built-in provider-noise list and the project's `.driftignore`;
* `risk`: the risk, concern and policy of each change;
* `report`: the report model and its JSON document (`docs/drift.md`);
* `render`: the Rich table and the Markdown form;
* `remediate`: the two ways back per resource, and running the restore;
* `automation`: running the refresh preview through `pulumi.automation`;
* `command`: the `ballast drift` command.
"""
