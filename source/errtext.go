package source

import "github.com/quotatop/quotatop/model"

// storageErrMax bounds an error sentence that quotes Redis: an error reply or a TLS
// certificate name is written by whoever is on the other end.
const storageErrMax = 400

// inertError keeps the wrapped error for errors.Is/As while its text is sanitised and
// cut once, where it leaves the source.
type inertError struct {
	err  error
	text string
}

func (e *inertError) Error() string { return e.text }
func (e *inertError) Unwrap() error { return e.err }

// inertErr wraps err so that its text is safe to show; nil stays nil.
func inertErr(err error) error {
	if err == nil {
		return nil
	}
	return &inertError{err: err, text: model.Cut(err.Error(), storageErrMax)}
}
