import Mustache

// Mustache finds a value by name with `Mirror` unless the object answers for itself;
// reflecting a struct for every `{{name}}` made a page of 100 schools take seconds.
// These lookups are plain switches. A name a view does not have returns nil, so
// Mustache goes on to the enclosing view, as it does with Mirror.

extension HeaderView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "title": title
        case "version": version
        case "uptime": uptime
        case "generatedAt": generatedAt
        case "refreshSeconds": refreshSeconds
        case "summary": summary
        case "downClass": downClass
        case "outboxClass": outboxClass
        case "hasOutboxFailing": hasOutboxFailing
        case "measurementsText": measurementsText
        case "hasMeasurements": hasMeasurements
        default: nil
        }
    }
}

extension SchoolView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "name": name
        case "href": href
        case "timezone": timezone
        case "file": file
        case "date": date
        case "probes": probes
        case "hasProbes": hasProbes
        case "counts": counts
        case "timeline": timeline
        default: nil
        }
    }
}

extension ProbeView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "probe": probe
        case "mode": mode
        case "group": group
        case "hasGroup": hasGroup
        case "label": label
        case "address": address
        case "hasAddress": hasAddress
        case "state": state
        case "stateClass": stateClass
        case "since": since
        case "lastContact": lastContact
        case "lastContactTitle": lastContactTitle
        case "missed": missed
        case "missedClass": missedClass
        case "clockOffset": clockOffset
        case "lastResult": lastResult
        case "lastResultClass": lastResultClass
        case "lastResultHref": lastResultHref
        case "hasLastResult": hasLastResult
        case "lateness": lateness
        case "nextRun": nextRun
        case "nextRunTitle": nextRunTitle
        case "egress": egress
        case "hasEgress": hasEgress
        case "egressShared": egressShared
        case "hasEgressShared": hasEgressShared
        case "egressConflict": egressConflict
        case "hasEgressConflict": hasEgressConflict
        case "silenced": silenced
        case "hasSilenced": hasSilenced
        default: nil
        }
    }
}

extension TimelineView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "width": width
        case "height": height
        case "labelX": labelX
        case "axisY": axisY
        case "tickEndY": tickEndY
        case "tickLabelY": tickLabelY
        case "markRadius": markRadius
        case "lanes": lanes
        case "bands": bands
        case "marks": marks
        case "ticks": ticks
        case "hasNow": hasNow
        case "nowX": nowX
        case "description": description
        case "legend": legend
        default: nil
        }
    }
}

extension LaneView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "name": name
        case "y": y
        case "textY": textY
        default: nil
        }
    }
}

extension BandView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "x": x
        case "width": width
        case "height": height
        case "className": className
        case "title": title
        default: nil
        }
    }
}

extension MarkView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "x": x
        case "y": y
        case "className": className
        case "title": title
        case "runAt": runAt
        case "probe": probe
        case "href": href
        case "hasHref": hasHref
        default: nil
        }
    }
}

extension TickView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "x": x
        case "label": label
        case "labeled": labeled
        default: nil
        }
    }
}

extension LegendEntry: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "className": className
        case "label": label
        default: nil
        }
    }
}

extension ResultEntryView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "anchor": anchor
        case "probe": probe
        case "runAt": runAt
        case "outcome": outcome
        case "outcomeClass": outcomeClass
        case "lateness": lateness
        case "output": output
        case "hasOutput": hasOutput
        case "truncated": truncated
        default: nil
        }
    }
}

extension SchoolLineView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "name": name
        case "href": href
        case "timezone": timezone
        case "states": states
        case "statesClass": statesClass
        case "reasons": reasons
        case "today": today
        case "spark": spark
        case "sparkLabel": sparkLabel
        default: nil
        }
    }
}

extension SparkCell: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "x": x
        case "className": className
        case "title": title
        default: nil
        }
    }
}

extension OverviewPage: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "header": header
        case "attention": attention
        case "hasAttention": hasAttention
        case "attentionText": attentionText
        case "moreAttention": moreAttention
        case "moreAttentionHref": moreAttentionHref
        case "outboxFailing": outboxFailing
        case "hasOutboxFailing": hasOutboxFailing
        case "schools": schools
        case "hasSchools": hasSchools
        case "emptyText": emptyText
        case "pageText": pageText
        case "search": search
        case "searching": searching
        case "hasFirst": hasFirst
        case "firstHref": firstHref
        case "hasNext": hasNext
        case "nextHref": nextHref
        case "below": below
        case "hasBelow": hasBelow
        case "belowText": belowText
        case "hasMoreBelow": hasMoreBelow
        case "moreBelowHref": moreBelowHref
        case "groupLinks": groupLinks
        case "hasGroupLinks": hasGroupLinks
        case "groupTitle": groupTitle
        case "groups": groups
        case "hasGroups": hasGroups
        case "labelText": labelText
        case "hasLabelFilter": hasLabelFilter
        case "conflicts": conflicts
        case "hasConflicts": hasConflicts
        case "conflictsText": conflictsText
        case "busyEgresses": busyEgresses
        case "hasBusyEgresses": hasBusyEgresses
        case "busyText": busyText
        case "incidents": incidents
        case "hasIncidents": hasIncidents
        case "incidentsText": incidentsText
        default: nil
        }
    }
}

extension IncidentLineView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "id": id
        case "title": title
        case "detail": detail
        case "stateClass": stateClass
        case "schools": schools
        case "schoolsText": schoolsText
        default: nil
        }
    }
}

extension BelowView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "name": name
        case "href": href
        case "state": state
        case "stateClass": stateClass
        case "median": median
        case "target": target
        case "share": share
        case "tests": tests
        default: nil
        }
    }
}

extension EgressLineView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "name": name
        case "href": href
        case "hasHref": hasHref
        case "detail": detail
        default: nil
        }
    }
}

extension GroupView: MustacheParent {
    func child(named key: String) -> Any? {
        switch key {
        case "value": value
        case "href": href
        case "hasHref": hasHref
        case "schools": schools
        case "schoolsDown": schoolsDown
        case "probesDown": probesDown
        case "downClass": downClass
        default: nil
        }
    }
}
