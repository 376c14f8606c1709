// Original file: src/cri/proto/api.proto


export interface PodSandboxNetworkStatus {
  'ip'?: (string);
}

export interface PodSandboxNetworkStatus__Output {
  'ip': (string);
}
