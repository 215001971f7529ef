/** Entry point: create the stores once and render the app inside their provider. */
import { render } from 'solid-js/web';
import { App } from './App';
import { StoreProvider, createStores } from './stores/context';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('#root is missing from index.html');

render(() => {
  const stores = createStores();
  return (
    <StoreProvider stores={stores}>
      <App />
    </StoreProvider>
  );
}, root);
