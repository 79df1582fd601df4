/// The dashboard's Mustache templates, compiled into the binary so that an installed
/// `governor` needs no resource files beside it.
///
/// The markup is HTML5 that is also well-formed XML (void elements closed, no named
/// entities), so tests can read it with an XML parser. No external assets: the
/// governor often runs on a closed network. Refreshing is a `<meta>` tag, so the page
/// works without JavaScript.
enum DashboardTemplates {
    static let all: [String: String] = [
        "overview": overview,
        "line": line,
        "school": school,
        "head": head,
        "summary": summary,
        "probes": probes,
        "timeline": timeline,
        "foot": foot,
        "notFound": notFound,
    ]

    static let overview = """
    {{#header}}{{> head}}{{> summary}}{{/header}}
    {{#hasIncidents}}
    <section class="incidents">
    <h2>Incidents <span class="meta">{{incidentsText}}</span></h2>
    {{#incidents}}<div class="incident-line" id="incident-{{id}}" data-incident="{{id}}"><p><strong class="{{stateClass}}">#{{id}} {{title}}</strong> {{detail}}</p>
    <details><summary>{{schoolsText}}</summary><p class="small">{{#schools}}<a href="{{href}}">{{name}}</a> {{/schools}}</p></details></div>
    {{/incidents}}
    </section>
    {{/hasIncidents}}
    <section class="attention">
    <h2>Needs attention <span class="meta">{{attentionText}}</span></h2>
    {{#hasOutboxFailing}}<p class="warn">{{outboxFailing}} alert email(s) failing to send: the journal says why.</p>{{/hasOutboxFailing}}
    {{^hasAttention}}<p class="empty">Nothing: no probe is DOWN, missing runs, failing its tests or off the clock.</p>{{/hasAttention}}
    {{#hasAttention}}
    <div class="scroll"><table class="lines">
    <thead><tr><th>School</th><th>Probes</th><th>Why</th><th>Today</th><th>By hour</th></tr></thead>
    <tbody>{{#attention}}{{> line}}{{/attention}}</tbody>
    </table></div>
    {{#moreAttention}}<p><a href="{{moreAttentionHref}}">Every school that needs attention »</a></p>{{/moreAttention}}
    {{/hasAttention}}
    </section>
    {{#hasBelow}}
    <section class="below">
    <h2>Furthest below target <span class="meta">{{belowText}}</span></h2>
    <div class="scroll"><table class="lines">
    <thead><tr><th>School</th><th>State</th><th>Median download</th><th>Target</th><th>Of target</th><th>Tests</th></tr></thead>
    <tbody>{{#below}}<tr class="below-line" data-school="{{name}}"><td><a href="{{href}}">{{name}}</a></td><td class="{{stateClass}}">{{state}}</td><td>{{median}}</td><td>{{target}}</td><td>{{share}}</td><td>{{tests}}</td></tr>
    {{/below}}</tbody>
    </table></div>
    {{#hasMoreBelow}}<p><a href="{{moreBelowHref}}">next schools below target »</a></p>{{/hasMoreBelow}}
    </section>
    {{/hasBelow}}
    {{#hasGroups}}
    <section class="egress groups">
    <h2>{{groupTitle}}</h2>
    <div class="scroll"><table class="lines">
    <thead><tr><th>Value</th><th>Schools</th><th>Schools down</th><th>Probes DOWN</th></tr></thead>
    <tbody>{{#groups}}<tr class="group-line" data-value="{{value}}"><td>{{#hasHref}}<a href="{{href}}">{{value}}</a>{{/hasHref}}{{^hasHref}}{{value}}{{/hasHref}}</td><td>{{schools}}</td><td class="{{downClass}}">{{schoolsDown}}</td><td>{{probesDown}}</td></tr>
    {{/groups}}</tbody>
    </table></div>
    </section>
    {{/hasGroups}}
    {{#hasConflicts}}
    <section class="egress conflicts">
    <h2>Identity conflicts <span class="meta">{{conflictsText}}</span></h2>
    <p class="note">One probe id seen switching between addresses: most likely one SD-card image on several boxes, or one token shared. Each box needs its own id and token.</p>
    <ul>{{#conflicts}}<li class="conflict-line" data-probe="{{name}}"><a href="{{href}}">{{name}}</a> {{detail}}</li>{{/conflicts}}</ul>
    </section>
    {{/hasConflicts}}
    {{#hasBusyEgresses}}
    <section class="egress busy">
    <h2>Egresses over the daily budget <span class="meta">{{busyText}}</span></h2>
    <ul>{{#busyEgresses}}<li class="busy-egress" data-address="{{name}}"><code>{{name}}</code> {{detail}}</li>{{/busyEgresses}}</ul>
    </section>
    {{/hasBusyEgresses}}
    <section class="schools">
    <h2>Schools <span class="meta">{{pageText}}</span></h2>
    <form class="search" method="get" action="/"><input type="search" name="school" value="{{search}}" placeholder="part of a school's name" aria-label="school name" /> <input type="search" name="label" value="{{labelText}}" placeholder="label, e.g. isp=acme-telecom" aria-label="label" /> <button type="submit">Search</button>{{#searching}} <a href="/">show all</a>{{/searching}}{{^searching}}{{#hasLabelFilter}} <a href="/">show all</a>{{/hasLabelFilter}}{{/searching}}</form>
    {{#hasGroupLinks}}<p class="small group-by">Group by: {{#groupLinks}}{{#hasHref}}<a href="{{href}}">{{name}}</a>{{/hasHref}}{{^hasHref}}<b>{{name}}</b>{{/hasHref}} {{/groupLinks}}</p>{{/hasGroupLinks}}
    {{^hasSchools}}<p class="empty">{{emptyText}}</p>{{/hasSchools}}
    {{#hasSchools}}
    <div class="scroll"><table class="lines">
    <thead><tr><th>School</th><th>Probes</th><th>Why</th><th>Today</th><th>By hour</th></tr></thead>
    <tbody>{{#schools}}{{> line}}{{/schools}}</tbody>
    </table></div>
    {{/hasSchools}}
    <p class="pager">{{#hasFirst}}<a href="{{firstHref}}">« first page</a> {{/hasFirst}}{{#hasNext}}<a rel="next" href="{{nextHref}}">next page »</a>{{/hasNext}}</p>
    </section>
    {{> foot}}
    """

    static let line = """
    <tr class="school-line" data-school="{{name}}"><td><a href="{{href}}">{{name}}</a> <span class="small">{{timezone}}</span></td><td class="{{statesClass}}">{{states}}</td><td class="warn">{{reasons}}</td><td>{{today}}</td><td><svg class="spark" viewBox="0 0 96 10" width="96" height="10" role="img" aria-label="{{sparkLabel}}">{{#spark}}<rect class="{{className}}" x="{{{x}}}" y="0" width="4" height="10"><title>{{title}}</title></rect>{{/spark}}</svg></td></tr>

    """

    static let school = """
    {{#header}}{{> head}}{{/header}}
    {{#school}}
    <p class="crumbs"><a href="/">All schools</a></p>
    <section class="school large" id="school-{{name}}">
    <h2>{{name}} <span class="meta">{{counts}} · {{timezone}} · {{date}} · <code>{{file}}</code></span></h2>
    {{#timeline}}{{> timeline}}{{/timeline}}
    {{> probes}}
    </section>
    {{/school}}
    {{#hasChart}}
    <section class="measurements">
    <h2>Daily medians <span class="meta">{{standing}}</span></h2>
    {{{chart}}}
    </section>
    {{/hasChart}}
    <section class="results">
    <h2>Latest results</h2>
    {{^results}}<p class="empty">No results yet.</p>{{/results}}
    {{#results}}
    <details class="result" id="{{anchor}}">
    <summary><span class="probe">{{probe}}</span> <span class="when">{{runAt}}</span> <span class="outcome {{outcomeClass}}">{{outcome}}</span> <span class="lateness">{{lateness}}</span></summary>
    {{#hasOutput}}<pre>{{output}}</pre>{{/hasOutput}}{{^hasOutput}}<p class="empty">No output.</p>{{/hasOutput}}
    {{#truncated}}<p class="note">Output truncated at the governor's max_output.</p>{{/truncated}}
    </details>
    {{/results}}
    </section>
    {{> foot}}
    """

    static let notFound = """
    {{#header}}{{> head}}{{/header}}
    <section class="results">
    <h2>No school is named “{{name}}”</h2>
    {{^schools}}<p>No schools are configured.</p>{{/schools}}
    <ul>{{#schools}}<li><a href="{{href}}">{{name}}</a></li>{{/schools}}</ul>
    <p><a href="/">All schools</a></p>
    </section>
    {{> foot}}
    """

    static let head = """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta http-equiv="refresh" content="{{refreshSeconds}}" />
    <title>{{title}}</title>
    <link rel="icon" href="data:," />
    <style>
    :root { --up: #2e7d32; --down: #c62828; --missed: #ef6c00; --pending: #757575; --ink: #1f2328; --muted: #59636e; --line: #d0d7de; --band: #ddeefc; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f6f8fa; }
    header { background: #24292f; color: #fff; padding: 10px 16px; display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: baseline; }
    header h1 { font-size: 18px; margin: 0; }
    header a { color: #fff; text-decoration: none; }
    header .meta { color: #c9d1d9; font-size: 13px; }
    main { padding: 12px 16px; max-width: 1280px; margin: 0 auto; }
    .tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(120px, 1fr)); gap: 8px; margin: 4px 0 16px; }
    .tile { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
    .tile b { display: block; font-size: 24px; }
    .tile span { color: var(--muted); font-size: 13px; }
    .tile.down b { color: var(--down); }
    svg.spark { display: block; background: #f3f4f6; }
    .spark-done { fill: var(--up); } .spark-failed { fill: var(--down); } .spark-missed { fill: var(--missed); }
    .spark-pending { fill: #c0c6cc; } .spark-unannounced, .spark-closed { fill: #e5e7ea; }
    svg.measurements { max-width: 100%; height: auto; } svg.measurements .closed { fill: #eef0f2; }
    svg.measurements .axis { stroke: #9aa1a8; } svg.measurements .target { stroke: var(--down); stroke-dasharray: 4 3; }
    svg.measurements polyline { fill: none; stroke-width: 1.5; } svg.measurements .tick { font-size: 10px; fill: #5f6670; }
    svg.measurements .download { stroke: var(--up); fill: var(--up); } svg.measurements .upload { stroke: #4a6fa5; fill: #4a6fa5; }
    svg.measurements polyline.download, svg.measurements polyline.upload { fill: none; }
    svg.measurements .group-download { stroke: #00838f; fill: #00838f; } svg.measurements .group-upload { stroke: #7a5aa5; fill: #7a5aa5; }
    svg.measurements polyline.group-download, svg.measurements polyline.group-upload { fill: none; stroke-dasharray: 6 3; }
    svg.measurements .legend tspan { stroke: none; }
    form.search { margin: 0 0 8px; } form.search input { padding: 3px 6px; min-width: 16em; }
    .pager { margin: 8px 0 0; }
    section.school, section.results, section.attention, section.schools, section.egress { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; margin-bottom: 14px; }
    h2 { font-size: 17px; margin: 2px 0 8px; }
    h2 .meta { font-weight: normal; color: var(--muted); font-size: 13px; }
    a { color: #0969da; }
    .scroll { overflow-x: auto; }
    table { border-collapse: collapse; width: 100%; font-size: 14px; }
    th, td { text-align: left; padding: 4px 8px; border-top: 1px solid var(--line); white-space: nowrap; }
    th { color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
    .state { font-weight: 700; }
    .state.up { color: var(--up); } .state.down { color: var(--down); } .state.never { color: var(--pending); }
    .warn { color: var(--missed); font-weight: 700; }
    .outcome.done { color: var(--up); } .outcome.failed { color: var(--down); }
    .small { color: var(--muted); font-size: 12px; }
    figure { margin: 0 0 8px; overflow-x: auto; }
    svg.timeline { width: 100%; min-width: 640px; height: auto; display: block; }
    svg .lane { fill: none; stroke: #eaeef2; }
    svg .lane-name { font-size: 12px; fill: var(--ink); }
    svg .window { fill: var(--band); stroke: #9cc9f5; }
    svg .window.ungenerated { fill: #f3f4f6; stroke: #c0c6cc; stroke-dasharray: 4 3; }
    svg .tick { stroke: #c0c6cc; }
    svg .tick-label { font-size: 11px; fill: var(--muted); text-anchor: middle; }
    svg .now { stroke: #6f42c1; stroke-width: 2; }
    svg .run { stroke-width: 1.5; }
    .run.done { fill: var(--up); stroke: var(--up); } .run.failed { fill: var(--down); stroke: var(--down); }
    .run.missed { fill: #fff; stroke: var(--missed); stroke-width: 3; } .run.pending { fill: #fff; stroke: var(--pending); }
    .run.unannounced { fill: #fff; stroke: var(--line); stroke-dasharray: 2 2; }
    .run.closed { fill: #fff; stroke: var(--line); }
    .legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: 12px; color: var(--muted); margin: 2px 0 6px; padding: 0; list-style: none; }
    .legend svg { width: 12px; height: 12px; vertical-align: -2px; }
    .legend .now-key { display: inline-block; width: 12px; border-top: 2px solid #6f42c1; vertical-align: 3px; }
    details.result { border-top: 1px solid var(--line); padding: 4px 0; }
    details.result summary { cursor: pointer; }
    details.result pre { background: #f6f8fa; border: 1px solid var(--line); padding: 8px; overflow-x: auto; max-height: 420px; font-size: 12px; }
    .empty, .note { color: var(--muted); }
    .crumbs { margin: 0 0 8px; }
    @media (max-width: 640px) { main { padding: 8px; } th, td { padding: 3px 6px; font-size: 13px; } }
    </style>
    </head>
    <body>
    <header><h1><a href="/">governor</a></h1><span class="meta">{{title}} · version {{version}} · up {{uptime}} · as of {{generatedAt}}</span></header>
    <main>
    """

    static let summary = """
    {{#summary}}
    <div class="tiles">
    <div class="tile"><b>{{schools}}</b><span>schools</span></div>
    <div class="tile"><b>{{probes}}</b><span>probes</span></div>
    <div class="tile"><b>{{up}}</b><span>UP</span></div>
    <div class="tile {{downClass}}"><b>{{down}}</b><span>DOWN</span></div>
    <div class="tile"><b>{{neverSeen}}</b><span>never seen</span></div>
    <div class="tile {{outboxClass}}"><b>{{outboxPending}}</b><span>alerts pending{{#hasOutboxFailing}} ({{outboxFailing}} failing){{/hasOutboxFailing}}</span></div>
    </div>
    {{/summary}}
    {{#hasMeasurements}}<p class="kpis">{{measurementsText}}</p>{{/hasMeasurements}}
    """

    static let probes = """
    {{#hasProbes}}
    <div class="scroll">
    <table class="probes">
    <thead><tr><th>Probe</th><th>Mode</th><th>Label / address</th><th>State</th><th>Last contact</th><th>Missed</th><th>Clock offset</th><th>Last result</th><th>Next run</th><th>Egress</th></tr></thead>
    <tbody>
    {{#probes}}
    <tr class="probe" data-probe="{{probe}}">
    <td>{{probe}}</td>
    <td>{{mode}}{{#hasGroup}}<br /><span class="small group">group {{group}}</span>{{/hasGroup}}</td>
    <td>{{label}}{{#hasAddress}}<br /><span class="small">{{address}}</span>{{/hasAddress}}</td>
    <td><span class="state {{stateClass}}">{{state}}</span><br /><span class="small">{{since}}</span>{{#hasSilenced}}<br /><span class="small silenced">{{silenced}}</span>{{/hasSilenced}}</td>
    <td title="{{lastContactTitle}}">{{lastContact}}</td>
    <td class="{{missedClass}}">{{missed}}</td>
    <td>{{clockOffset}}</td>
    <td>{{#hasLastResult}}<a class="outcome {{lastResultClass}}" href="{{lastResultHref}}">{{lastResult}}</a><br /><span class="small">{{lateness}}</span>{{/hasLastResult}}{{^hasLastResult}}<span class="small">none yet</span>{{/hasLastResult}}</td>
    <td title="{{nextRunTitle}}">{{nextRun}}</td>
    <td class="egress">{{egress}}{{#hasEgressShared}}<br /><span class="small shared">{{egressShared}}</span>{{/hasEgressShared}}{{#hasEgressConflict}}<br /><span class="warn conflict">{{egressConflict}}</span>{{/hasEgressConflict}}</td>
    </tr>
    {{/probes}}
    </tbody>
    </table>
    </div>
    {{/hasProbes}}
    {{^hasProbes}}<p class="empty">This school has no probes.</p>{{/hasProbes}}
    """

    // Numbers are written with `{{{…}}}`: they need no escaping, and the timeline
    // writes thousands of them on a large page.
    static let timeline = """
    <figure>
    <svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {{{width}}} {{{height}}}" role="img" aria-label="{{description}}">
    <title>{{description}}</title>
    {{#bands}}<rect class="{{className}}" x="{{{x}}}" y="6" width="{{{width}}}" height="{{{height}}}"><title>{{title}}</title></rect>
    {{/bands}}
    {{#lanes}}<rect class="lane" x="0" y="{{{y}}}" width="{{{width}}}" height="1" /><text class="lane-name" x="{{{labelX}}}" y="{{{textY}}}">{{name}}</text>
    {{/lanes}}
    {{#ticks}}<line class="tick" x1="{{{x}}}" x2="{{{x}}}" y1="{{{axisY}}}" y2="{{{tickEndY}}}" />{{#labeled}}<text class="tick-label" x="{{{x}}}" y="{{{tickLabelY}}}">{{label}}</text>{{/labeled}}
    {{/ticks}}
    {{#hasNow}}<line class="now" x1="{{{nowX}}}" x2="{{{nowX}}}" y1="0" y2="{{{axisY}}}"><title>now</title></line>{{/hasNow}}
    {{#marks}}{{#hasHref}}<a href="{{href}}">{{/hasHref}}<circle class="{{className}}" cx="{{{x}}}" cy="{{{y}}}" r="{{{markRadius}}}" data-probe="{{probe}}" data-run-at="{{runAt}}"><title>{{title}}</title></circle>{{#hasHref}}</a>{{/hasHref}}
    {{/marks}}
    </svg>
    <ul class="legend">{{#legend}}<li><svg viewBox="0 0 12 12"><circle class="{{className}}" cx="6" cy="6" r="4.5" /></svg> {{label}}</li>{{/legend}}<li><span class="now-key"></span> now</li></ul>
    </figure>
    """

    static let foot = """
    </main>
    </body>
    </html>
    """
}
