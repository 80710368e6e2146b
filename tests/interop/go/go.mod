module mintlane/interop/gopeer

go 1.21

require github.com/AgoraIO-Community/go-tokenbuilder v1.3.0
