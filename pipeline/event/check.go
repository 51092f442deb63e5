package event

import (
	"encoding/json"
	"fmt"
	"time"
)

// Check status values (ECS monitor.status, as Heartbeat writes it).
const (
	CheckUp   = "up"
	CheckDown = "down"
)

// Check is the result of one availability probe of a service from one
// vantage point (a sensor at a site).
type Check struct {
	ID       string        // deterministic: vantage, service, monitor and time
	Time     time.Time     // when the probe started
	Org      string        // organisation of the vantage (from the topic)
	Vantage  string        // the sensor that probed (observer.name)
	Service  string        // service id in the catalogue
	Monitor  string        // probe kind: http, tls, dns, tcp, icmp
	Target   string        // URL or host:port probed
	Status   string        // CheckUp or CheckDown
	Duration time.Duration // how long the probe took
	Error    string        // why it failed, when it failed
	// HTTPStatus is the response status of an HTTP probe, 0 otherwise.
	HTTPStatus int
	// Impaired is set when the vantage's own gateway or resolver failed at
	// the time, so a failure says nothing about the service.
	Impaired bool
}

// CheckID names a check deterministically.
func CheckID(vantage, service, monitor string, t time.Time) string {
	return ID("check", vantage, service, monitor, t.UTC().Format(time.RFC3339Nano))
}

type checkWire struct {
	Timestamp time.Time `json:"@timestamp"`
	Event     struct {
		Kind    string `json:"kind"`
		ID      string `json:"id"`
		Dataset string `json:"dataset"`
	} `json:"event"`
	Organization struct {
		ID string `json:"id"`
	} `json:"organization"`
	Observer struct {
		Name string `json:"name"`
	} `json:"observer"`
	Service struct {
		ID string `json:"id"`
	} `json:"service"`
	Monitor struct {
		Type     string `json:"type"`
		Status   string `json:"status"`
		Target   string `json:"target"`
		Duration struct {
			US int64 `json:"us"`
		} `json:"duration"`
	} `json:"monitor"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
	HTTP *struct {
		Response struct {
			StatusCode int `json:"status_code"`
		} `json:"response"`
	} `json:"http,omitempty"`
	Egovsoc struct {
		Check struct {
			Impaired bool `json:"impaired"`
		} `json:"check"`
	} `json:"egovsoc"`
}

// MarshalJSON writes the check as ECS (monitor.* as Heartbeat does).
func (c *Check) MarshalJSON() ([]byte, error) {
	var w checkWire
	w.Timestamp = c.Time.UTC()
	w.Event.Kind = "metric"
	w.Event.ID = c.ID
	w.Event.Dataset = "egovsoc.check"
	w.Organization.ID = c.Org
	w.Observer.Name = c.Vantage
	w.Service.ID = c.Service
	w.Monitor.Type = c.Monitor
	w.Monitor.Status = c.Status
	w.Monitor.Target = c.Target
	w.Monitor.Duration.US = c.Duration.Microseconds()
	if c.Error != "" {
		w.Error = &struct {
			Message string `json:"message"`
		}{c.Error}
	}
	if c.HTTPStatus != 0 {
		w.HTTP = &struct {
			Response struct {
				StatusCode int `json:"status_code"`
			} `json:"response"`
		}{}
		w.HTTP.Response.StatusCode = c.HTTPStatus
	}
	w.Egovsoc.Check.Impaired = c.Impaired
	return json.Marshal(&w)
}

// UnmarshalJSON reads a check and validates it.
func (c *Check) UnmarshalJSON(b []byte) error {
	var w checkWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*c = Check{
		ID:       w.Event.ID,
		Time:     w.Timestamp,
		Org:      w.Organization.ID,
		Vantage:  w.Observer.Name,
		Service:  w.Service.ID,
		Monitor:  w.Monitor.Type,
		Target:   w.Monitor.Target,
		Status:   w.Monitor.Status,
		Duration: time.Duration(w.Monitor.Duration.US) * time.Microsecond,
		Impaired: w.Egovsoc.Check.Impaired,
	}
	if w.Error != nil {
		c.Error = w.Error.Message
	}
	if w.HTTP != nil {
		c.HTTPStatus = w.HTTP.Response.StatusCode
	}
	return c.Validate()
}

// Validate checks what the availability evaluator relies on.
func (c *Check) Validate() error {
	switch {
	case c.Time.IsZero():
		return fmt.Errorf("check: @timestamp is missing")
	case c.Service == "":
		return fmt.Errorf("check: service.id is missing")
	case c.Vantage == "":
		return fmt.Errorf("check: observer.name is missing")
	case c.Status != CheckUp && c.Status != CheckDown:
		return fmt.Errorf("check: monitor.status %q is neither up nor down", c.Status)
	case c.Duration < 0:
		return fmt.Errorf("check: negative duration")
	}
	if c.ID == "" {
		c.ID = CheckID(c.Vantage, c.Service, c.Monitor, c.Time)
	}
	return nil
}
