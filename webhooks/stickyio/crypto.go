package stickyio

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// KeySize is the length of a sticky.io key phrase: 32 characters, used as the AES-256 key.
const KeySize = 32

var errNotDecrypted = errors.New("body does not decrypt to JSON with any configured key")

// decrypt turns a webhook body into its JSON plaintext: base64, then AES-256-CBC with the IV in
// the first 16 bytes and PKCS#7 padding, with each key in turn. sticky.io signs nothing, so a
// plaintext that is a JSON object is the proof the sender holds the key.
//
// It decodes the plaintext into v in the same pass that proves it JSON (json.Unmarshal checks
// the whole text before it decodes any of it, so a wrong key's garbage leaves v as it was).
// decodeErr is the decoding's error for JSON of another shape than v's: the body is genuine all
// the same.
func decrypt(body []byte, keys [][]byte, v any) (plain []byte, decodeErr, err error) {
	text := bytes.TrimSpace(body)
	if len(text) > 0 && text[0] == '"' { // tolerate the base64 sent as a JSON string
		var s string
		if err := json.Unmarshal(text, &s); err != nil {
			return nil, nil, errNotDecrypted
		}
		text = []byte(s)
	}
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	n, err := base64.StdEncoding.Decode(raw, text)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (not base64)", errNotDecrypted)
	}
	raw = raw[:n]
	if len(raw) < 2*aes.BlockSize || len(raw)%aes.BlockSize != 0 {
		return nil, nil, fmt.Errorf("%w (not whole AES blocks)", errNotDecrypted)
	}
	iv, ciphertext := raw[:aes.BlockSize], raw[aes.BlockSize:]
	buf := make([]byte, len(ciphertext))
	for _, key := range keys {
		block, err := aes.NewCipher(key)
		if err != nil {
			continue
		}
		cipher.NewCBCDecrypter(block, iv).CryptBlocks(buf, ciphertext)
		text, ok := unpad(buf)
		if !ok || !bytes.HasPrefix(bytes.TrimSpace(text), []byte("{")) {
			continue
		}
		var syntax *json.SyntaxError
		if err := mirrorsync.UnmarshalJSON(text, v); !errors.As(err, &syntax) {
			return bytes.Clone(text), err, nil
		}
	}
	return nil, nil, errNotDecrypted
}

// unpad removes PKCS#7 padding.
func unpad(b []byte) ([]byte, bool) {
	if len(b) == 0 {
		return nil, false
	}
	n := int(b[len(b)-1])
	if n == 0 || n > aes.BlockSize || n > len(b) {
		return nil, false
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, false
		}
	}
	return b[:len(b)-n], true
}

// Encrypt produces a sticky.io webhook body for plaintext: what sticky.io sends. It is used by
// tests and `make demo` to post genuine deliveries.
func Encrypt(plaintext []byte, keyPhrase string) ([]byte, error) {
	block, err := aes.NewCipher([]byte(keyPhrase))
	if err != nil {
		return nil, fmt.Errorf("key phrase: %w", err)
	}
	n := aes.BlockSize - len(plaintext)%aes.BlockSize
	padded := append(bytes.Clone(plaintext), bytes.Repeat([]byte{byte(n)}, n)...)
	out := make([]byte, aes.BlockSize+len(padded))
	if _, err := rand.Read(out[:aes.BlockSize]); err != nil {
		return nil, err
	}
	cipher.NewCBCEncrypter(block, out[:aes.BlockSize]).CryptBlocks(out[aes.BlockSize:], padded)
	return []byte(base64.StdEncoding.EncodeToString(out)), nil
}
