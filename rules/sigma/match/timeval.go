package match

import (
	"time"

	"github.com/egovsoc/egovsoc/pipeline/event"
)

// Timestamps are what ECS writes: RFC 3339 text (with or without
// fractional seconds, T or a space between date and time, Z or an offset),
// or milliseconds since the epoch as a number or a string of digits. They
// are read without allocating.

// clock is a timestamp as written: its calendar fields in its own offset,
// and the instant.
type clock struct {
	year, month, day, hour, minute int
	unix                           int64 // seconds since the epoch
	nano                           int   // within the second
}

func digits(s string, n int) (int, bool) {
	if len(s) < n {
		return 0, false
	}
	v := 0
	for i := 0; i < n; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseRFC3339 reads YYYY-MM-DD[Tt ]hh:mm:ss[.frac](Z|z|±hh:mm).
func parseRFC3339(s string) (clock, bool) {
	var c clock
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return c, false
	}
	if t := s[10]; t != 'T' && t != 't' && t != ' ' {
		return c, false
	}
	var ok [6]bool
	var sec int
	c.year, ok[0] = digits(s, 4)
	c.month, ok[1] = digits(s[5:], 2)
	c.day, ok[2] = digits(s[8:], 2)
	c.hour, ok[3] = digits(s[11:], 2)
	c.minute, ok[4] = digits(s[14:], 2)
	sec, ok[5] = digits(s[17:], 2)
	for _, b := range ok {
		if !b {
			return c, false
		}
	}
	if c.month < 1 || c.month > 12 || c.day < 1 || c.day > daysIn(c.year, c.month) ||
		c.hour > 23 || c.minute > 59 || sec > 60 {
		return c, false
	}
	i := 19
	if i < len(s) && (s[i] == '.' || s[i] == ',') {
		i++
		start := i
		scale := 100000000
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			c.nano += int(s[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == start {
			return c, false
		}
	}
	offset := 0
	switch {
	case i == len(s)-1 && (s[i] == 'Z' || s[i] == 'z'):
	case i == len(s)-6 && (s[i] == '+' || s[i] == '-') && s[i+3] == ':':
		h, ok1 := digits(s[i+1:], 2)
		m, ok2 := digits(s[i+4:], 2)
		if !ok1 || !ok2 || h > 23 || m > 59 {
			return c, false
		}
		offset = (h*60 + m) * 60
		if s[i] == '-' {
			offset = -offset
		}
	default:
		return c, false
	}
	c.unix = time.Date(c.year, time.Month(c.month), c.day, c.hour, c.minute, sec, 0, time.UTC).Unix() - int64(offset)
	return c, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// epochBound keeps epoch milliseconds to years 0 to 9999.
const epochBound = 253402300800000

// fromMillis makes a clock (in UTC) from milliseconds since the epoch.
func fromMillis(ms int64) (clock, bool) {
	if ms < -62167219200000 || ms >= epochBound {
		return clock{}, false
	}
	t := time.UnixMilli(ms).UTC()
	y, mo, d := t.Date()
	return clock{year: y, month: int(mo), day: d, hour: t.Hour(), minute: t.Minute(),
		unix: t.Unix(), nano: t.Nanosecond()}, true
}

// valueClock reads a timestamp from an event value.
func valueClock(v event.Value) (clock, bool) {
	switch v.Kind() {
	case event.KindString:
		s := v.Text()
		if c, ok := parseRFC3339(s); ok {
			return c, true
		}
		if ms, ok := parseInt(s); ok {
			return fromMillis(ms)
		}
	case event.KindNumber:
		d, ok := parseDecimal(v.Text())
		if !ok {
			return clock{}, false
		}
		if ms, ok := d.integer(); ok {
			return fromMillis(ms)
		}
	}
	return clock{}, false
}

// parseInt reads an optionally signed run of decimal digits that fits
// int64, without allocating.
func parseInt(s string) (int64, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int64(s[i]-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// timePart names a component the time modifiers extract.
type timePart uint8

const (
	partMinute timePart = iota + 1
	partHour
	partDay
	partWeek
	partMonth
	partYear
)

// of extracts the component: calendar fields as written (no time zone
// conversion, as the specification says), the week as the ISO 8601 week
// of the written date.
func (p timePart) of(c clock) int64 {
	switch p {
	case partMinute:
		return int64(c.minute)
	case partHour:
		return int64(c.hour)
	case partDay:
		return int64(c.day)
	case partWeek:
		_, w := time.Date(c.year, time.Month(c.month), c.day, 12, 0, 0, 0, time.UTC).ISOWeek()
		return int64(w)
	case partMonth:
		return int64(c.month)
	}
	return int64(c.year)
}

// cmpClock orders two instants.
func cmpClock(a, b clock) int {
	switch {
	case a.unix < b.unix:
		return -1
	case a.unix > b.unix:
		return 1
	case a.nano < b.nano:
		return -1
	case a.nano > b.nano:
		return 1
	}
	return 0
}
