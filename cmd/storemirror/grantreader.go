package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/storemirror/storemirror/store"
)

// grantReader runs `grant-reader [--config FILE] ROLE`: it lets an existing PostgreSQL role read
// the mirror (and what later migrations add to it), and nothing of sync.
func (m *Main) grantReader(ctx context.Context, fs *flag.FlagSet, args []string, configPath *string) error {
	role, err := m.parseOperand(fs, args, "ROLE")
	if err != nil {
		return helpIsNoError(err)
	}
	db, err := m.openDatabase(ctx, *configPath)
	if err != nil {
		return err
	}
	defer db.Close()
	g, err := db.GrantReader(ctx, role)
	if err != nil {
		return fmt.Errorf("grant-reader: %w", err)
	}
	fmt.Fprintf(m.Stdout, "role %s can read every table and view of schema mirror, and those later migrations add; nothing of sync.\n", role)
	if g.SearchPathSet {
		fmt.Fprintf(m.Stdout, "Its search path is mirror, public from its next connection: SELECT * FROM products_current works.\n")
	} else {
		fmt.Fprintf(m.Stdout, "Its search path is unchanged (setting it takes a superuser or CREATEROLE): its queries name the schema\n(mirror.products_current), or a superuser runs: %s;\n", g.SearchPathSQL)
	}
	return nil
}

// parseOperand parses flags around the command's one operand (before it, after it, or both) and
// returns the operand.
func (m *Main) parseOperand(fs *flag.FlagSet, args []string, name string) (string, error) {
	if err := m.parseFlags(fs, args); err != nil {
		return "", err
	}
	if fs.NArg() == 0 {
		return "", usagef("%s: %s is required", fs.Name(), name)
	}
	operand := fs.Arg(0)
	if err := m.parseFlags(fs, fs.Args()[1:]); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", usagef("%s: unexpected arguments %v", fs.Name(), fs.Args())
	}
	return operand, nil
}

// openDatabase connects to the configured database without migrating it: these commands read
// the schema, or grant on it, as it is.
func (m *Main) openDatabase(ctx context.Context, path string) (*store.DB, error) {
	cfg, err := m.loadConfig(path)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, cfg.Database.URL, 2)
}
