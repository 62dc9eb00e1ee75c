module vigil.dev/hpack-go

go 1.26.0

require golang.org/x/net v0.60.0
