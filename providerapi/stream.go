package providerapi

import (
	"encoding/json"
	"fmt"
)

// DecodeError is an answer that is not the JSON its reader expects, or that was cut short.
// GetStream names the source and path of the request in front of it.
type DecodeError struct{ Err error }

func (e *DecodeError) Error() string { return "decode answer: " + e.Err.Error() }

// Unwrap returns the decoder's error (a timeout or io.ErrUnexpectedEOF is retried).
func (e *DecodeError) Unwrap() error { return e.Err }

// ReadArray reads a JSON array from dec, handing item each element as the exact bytes received,
// one at a time: only one element is held in memory. A null reads as an empty array; anything
// else that is not an array is a *DecodeError. item's errors are returned as they are.
func ReadArray(dec *json.Decoder, item func(json.RawMessage) error) error {
	_, err := readArray(dec, item)
	return err
}

func readArray(dec *json.Decoder, item func(json.RawMessage) error) (bool, error) {
	tok, err := dec.Token()
	if err != nil {
		return false, &DecodeError{Err: err}
	}
	switch tok {
	case nil:
		return false, nil
	case json.Delim('['):
	default:
		return false, &DecodeError{Err: fmt.Errorf("%v where an array was expected", tok)}
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return true, &DecodeError{Err: err}
		}
		if err := item(raw); err != nil {
			return true, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return true, &DecodeError{Err: err}
	}
	return true, nil
}

// ReadObject reads a JSON object from dec. The value of each key of arrays is read element by
// element (ReadArray) and handed to that key's function; the other keys, the page's small print
// (paging fields and the like), are decoded into rest as though the object had only them. It
// returns the keys of arrays that were arrays (present and not null). A null reads as an empty
// object; anything else that is not an object is a *DecodeError.
func ReadObject(dec *json.Decoder, arrays map[string]func(json.RawMessage) error, rest any) ([]string, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, &DecodeError{Err: err}
	}
	switch tok {
	case nil:
		return nil, nil
	case json.Delim('{'):
	default:
		return nil, &DecodeError{Err: fmt.Errorf("%v where an object was expected", tok)}
	}
	var found []string
	others := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return found, &DecodeError{Err: err}
		}
		key, ok := tok.(string)
		if !ok {
			return found, &DecodeError{Err: fmt.Errorf("%v where a key was expected", tok)}
		}
		if item, ok := arrays[key]; ok {
			was, err := readArray(dec, item)
			if err != nil {
				return found, err
			}
			if was {
				found = append(found, key)
			}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return found, &DecodeError{Err: err}
		}
		others[key] = raw
	}
	if _, err := dec.Token(); err != nil { // the closing }
		return found, &DecodeError{Err: err}
	}
	if rest == nil {
		return found, nil
	}
	b, err := json.Marshal(others)
	if err == nil {
		err = json.Unmarshal(b, rest)
	}
	if err != nil {
		return found, &DecodeError{Err: err}
	}
	return found, nil
}
